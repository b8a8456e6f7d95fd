package policy

// ProbePrefix is the reserved key prefix where `ferry check` writes (and
// removes) its harmless probe objects. The policies ferry writes grant
// the probe's writes and deletes under this prefix only.
const ProbePrefix = ".ferry-check/"
