package policy

import (
	"fmt"
	"strings"
)

// Request is one authorisation question for Evaluate: may Principal do
// Action on Resource, with these request context keys?
type Request struct {
	// Principal is the caller, for resource-based policies: an IAM ARN or
	// a service ("s3.amazonaws.com"). Statements without a Principal
	// (identity policies) ignore it.
	Principal string
	Action    string
	Resource  string
	// Context holds the condition keys the request carries; a key that is
	// absent is not in the map.
	Context map[string][]string
}

// Evaluate answers r from one document the way IAM does for the parts
// ferry's documents use: an explicit Deny wins, else any matching Allow
// allows, else the request is denied. Actions match case-insensitively
// with * and ? wildcards; resources case-sensitively, with IAM's ${*},
// ${?} and ${$} escapes. Conditions: String{Equals,NotEquals,Like,NotLike},
// Arn{Equals,Like}, Bool, each also ...IfExists, and ForAnyValue: and
// ForAllValues: forms. Anything else is an error, so a test never passes
// on an operator the evaluator does not understand.
//
// It is a model for tests, not IAM: no policy variables, no NotAction or
// NotResource, no permission boundaries or SCPs.
func Evaluate(d *Document, r Request) (bool, error) {
	allowed := false
	for i, st := range d.Statement {
		ok, err := st.matches(r)
		if err != nil {
			return false, fmt.Errorf("statement %d (%s): %w", i, st.Sid, err)
		}
		if !ok {
			continue
		}
		switch st.Effect {
		case Deny:
			return false, nil
		case Allow:
			allowed = true
		default:
			return false, fmt.Errorf("statement %d (%s): effect %q", i, st.Sid, st.Effect)
		}
	}
	return allowed, nil
}

func (st Statement) matches(r Request) (bool, error) {
	if p := st.Principal; p != nil && !p.matches(r.Principal) {
		return false, nil
	}
	if len(st.Action) == 0 {
		return false, fmt.Errorf("no Action")
	}
	match := false
	for _, a := range st.Action {
		ok, err := glob(strings.ToLower(a), strings.ToLower(r.Action), false)
		if err != nil {
			return false, err
		}
		match = match || ok
	}
	if !match {
		return false, nil
	}
	if st.Principal == nil && len(st.Resource) == 0 {
		return false, fmt.Errorf("no Resource")
	}
	match = len(st.Resource) == 0 // a trust policy has none
	for _, res := range st.Resource {
		ok, err := glob(res, r.Resource, true)
		if err != nil {
			return false, err
		}
		match = match || ok
	}
	if !match {
		return false, nil
	}
	for _, op := range sortedKeys(st.Condition) {
		for _, key := range sortedKeys(st.Condition[op]) {
			ok, err := condition(op, st.Condition[op][key], r.Context[key])
			if err != nil || !ok {
				return false, err
			}
		}
	}
	return true, nil
}

func (p *Principal) matches(who string) bool {
	if p.Any {
		return true
	}
	for _, s := range p.Service {
		if s == who {
			return true
		}
	}
	acct := accountOf(who)
	for _, a := range p.AWS {
		// An account ID or its root ARN stands for every principal of
		// the account.
		if a == who || acct != "" && (a == acct || strings.HasSuffix(a, ":iam::"+acct+":root")) {
			return true
		}
	}
	return false
}

// condition evaluates one operator on one key: want are the policy's
// values, got the request's (nil when the key is absent).
func condition(op string, want, got []string) (bool, error) {
	set, base := "", op
	if s, rest, ok := strings.Cut(op, ":"); ok {
		set, base = s, rest
	}
	ifExists := strings.HasSuffix(base, "IfExists")
	base = strings.TrimSuffix(base, "IfExists")
	var cmp func(w, g string) (bool, error)
	negated := false
	switch base {
	case "StringEquals", "ArnEquals", "Bool":
		cmp = func(w, g string) (bool, error) { return w == g, nil }
	case "StringNotEquals":
		cmp, negated = func(w, g string) (bool, error) { return w == g, nil }, true
	case "StringLike", "ArnLike":
		cmp = func(w, g string) (bool, error) { return glob(w, g, true) }
	case "StringNotLike":
		cmp = func(w, g string) (bool, error) { return glob(w, g, true) }
		negated = true
	default:
		return false, fmt.Errorf("condition operator %q is not modelled", op)
	}
	anyMatch := func(g string) (bool, error) {
		for _, w := range want {
			ok, err := cmp(w, g)
			if err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	}
	if got == nil {
		switch {
		case ifExists, set == "ForAllValues":
			return true, nil
		case negated && set == "":
			return true, nil // a negated operator holds for an absent key
		}
		return false, nil
	}
	switch set {
	case "", "ForAnyValue":
		// One request value suffices (single-valued keys have one).
		for _, g := range got {
			ok, err := anyMatch(g)
			if err != nil {
				return false, err
			}
			if ok {
				return !negated, nil
			}
		}
		return negated, nil
	case "ForAllValues":
		for _, g := range got {
			ok, err := anyMatch(g)
			if err != nil {
				return false, err
			}
			if ok == negated {
				return false, nil
			}
		}
		return true, nil
	}
	return false, fmt.Errorf("condition set operator %q is not modelled", set)
}

// glob matches s against an IAM pattern: * any run of characters, ? one
// character. With escapes, ${*}, ${?} and ${$} are those characters
// literally, and any other ${...} (a policy variable) is an error.
func glob(pattern, s string, escapes bool) (bool, error) {
	type tok struct {
		r    rune
		wild bool
	}
	var toks []tok
	for i := 0; i < len(pattern); {
		if escapes && strings.HasPrefix(pattern[i:], "${") {
			end := strings.IndexByte(pattern[i:], '}')
			if end < 0 {
				return false, fmt.Errorf("unterminated ${ in %q", pattern)
			}
			switch v := pattern[i+2 : i+end]; v {
			case "*", "?", "$":
				toks = append(toks, tok{r: rune(v[0])})
			default:
				return false, fmt.Errorf("policy variable ${%s} in %q is not modelled", v, pattern)
			}
			i += end + 1
			continue
		}
		r := rune(pattern[i])
		toks = append(toks, tok{r: r, wild: r == '*' || r == '?'})
		i++
	}
	// Classic two-pointer wildcard match with backtracking to the last *.
	p, j, star, mark := 0, 0, -1, 0
	for j < len(s) {
		switch {
		case p < len(toks) && (toks[p].wild && toks[p].r == '?' || !toks[p].wild && toks[p].r == rune(s[j])):
			p++
			j++
		case p < len(toks) && toks[p].wild && toks[p].r == '*':
			star, mark = p, j
			p++
		case star >= 0:
			p = star + 1
			mark++
			j = mark
		default:
			return false, nil
		}
	}
	for p < len(toks) && toks[p].wild && toks[p].r == '*' {
		p++
	}
	return p == len(toks), nil
}
