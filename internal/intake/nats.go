package intake

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ferry-s3/ferry/internal/event"
)

// NATS is the intake for S3 event notifications published to NATS
// JetStream (MinIO's and Ceph's NATS targets with JetStream on). It reads
// them through a durable pull consumer and acks a message once Handle
// returns nil; a message whose Handle fails is delivered again after
// Backoff.Delay(deliveries). Several processes may share one Durable:
// JetStream hands each message to one of them at a time.
type NATS struct {
	URL string // server URL(s), comma-separated: nats://127.0.0.1:4222
	// Stream keeps the events. Run creates it if it is missing (file
	// storage, messages kept 7 days) and adds Subject to an existing one
	// that lacks it; nothing else of an existing stream is changed.
	Stream string
	// Subject is what the events are published to, the subject of the
	// MinIO target; it filters the consumer. Empty: the whole stream.
	Subject string
	Durable string // consumer name, created or updated by Run
	Handle  Handler
	// Workers is how many messages are handled at once; 0 means 10. No more
	// messages are fetched than there are free workers.
	Workers int
	// AckWait is how long JetStream waits for an ack before it delivers a
	// message again; 0 means 30s. A handler that runs longer keeps its
	// message with InProgress every AckWait/3.
	AckWait time.Duration
	// MaxDeliver is how many times a message is delivered before JetStream
	// gives up on it (it stays in the stream, and JetStream publishes a
	// MAX_DELIVERIES advisory); 0 means no limit.
	MaxDeliver int
	// Replicas of the stream when Run creates it; 0 means 1.
	Replicas int
	// DeliverNew makes the consumer, when Run creates it, start with the
	// messages published after it rather than all those the stream keeps.
	// JetStream refuses to change this of an existing consumer.
	DeliverNew bool
	Backoff    Backoff
	Log        *slog.Logger
	// Options are extra connection options: credentials, TLS.
	Options []nats.Option
}

const (
	natsPull         = 10 * time.Second   // how long one fetch waits for messages
	natsStreamMaxAge = 7 * 24 * time.Hour // of streams Run creates
)

// Run consumes messages until ctx is canceled, then waits for the handlers
// that are running (they get a context that is not canceled) and acks what
// they finished. Run returns nil after a cancel, or an error when the
// stream or the consumer cannot be set up.
func (n *NATS) Run(ctx context.Context) error {
	if n.URL == "" || n.Stream == "" || n.Durable == "" || n.Handle == nil {
		return errors.New("nats intake: URL, Stream, Durable and Handle are required")
	}
	workers := n.Workers
	if workers <= 0 {
		workers = 10
	}
	ackWait := n.AckWait
	if ackWait <= 0 {
		ackWait = 30 * time.Second
	}
	maxDeliver := n.MaxDeliver
	if maxDeliver <= 0 {
		maxDeliver = -1
	}
	log := logger(n.Log).With("stream", n.Stream, "consumer", n.Durable)

	opts := append([]nats.Option{nats.Name("ferry"), nats.MaxReconnects(-1)}, n.Options...)
	nc, err := nats.Connect(n.URL, opts...)
	if err != nil {
		return fmt.Errorf("nats %s: %w", n.URL, err)
	}
	defer func() {
		// Send the last acks before closing.
		if err := nc.FlushTimeout(5 * time.Second); err != nil {
			log.Warn("nats: flush at stop", "err", err)
		}
		nc.Close()
	}()
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("nats %s: %w", n.URL, err)
	}
	cons, err := n.setUp(ctx, js, ackWait, maxDeliver, workers, log)
	if err != nil {
		return err
	}

	hctx := context.WithoutCancel(ctx)
	sem := make(chan struct{}, workers) // one token per running handler
	var wg sync.WaitGroup
	for fails := 0; ; {
		if !waitFree(ctx, sem) {
			break
		}
		pull, cancel := context.WithTimeout(ctx, natsPull)
		batch, err := cons.Fetch(workers-len(sem), jetstream.FetchContext(pull))
		if err == nil {
			for msg := range batch.Messages() {
				if ctx.Err() != nil {
					// Stopping: hand it back for another consumer.
					_ = msg.Nak()
					continue
				}
				sem <- struct{}{}
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer func() { <-sem }()
					n.handle(hctx, msg, ackWait, maxDeliver, log)
				}()
			}
			err = batch.Error()
		}
		cancel()
		if ctx.Err() != nil {
			break
		}
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			fails++
			wait := Backoff{Max: 30 * time.Second}.Delay(fails)
			log.Warn("nats: fetch failed", "err", err, "retry_in", wait)
			sleep(ctx, wait)
			continue
		}
		fails = 0
	}
	wg.Wait()
	return nil
}

// setUpFor bounds how long Run retries setting up its stream and consumer
// when JetStream answers that it cannot yet (a cluster electing a leader,
// a stream being moved between nodes): JetStream's own 503s.
const setUpFor = time.Minute

// setUp makes the stream and the durable consumer, retrying while
// JetStream is temporarily unable to.
func (n *NATS) setUp(ctx context.Context, js jetstream.JetStream, ackWait time.Duration, maxDeliver, workers int, log *slog.Logger) (jetstream.Consumer, error) {
	deadline := time.Now().Add(setUpFor)
	deliver := jetstream.DeliverAllPolicy
	if n.DeliverNew {
		deliver = jetstream.DeliverNewPolicy
	}
	for try := 1; ; try++ {
		stream, err := n.ensureStream(ctx, js)
		if err == nil {
			var cons jetstream.Consumer
			cons, err = stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
				DeliverPolicy: deliver,
				Durable:       n.Durable,
				Description:   "ferry: S3 event notifications",
				FilterSubject: n.Subject,
				AckPolicy:     jetstream.AckExplicitPolicy,
				AckWait:       ackWait,
				MaxDeliver:    maxDeliver,
				MaxAckPending: max(1000, 2*workers),
			})
			if err == nil {
				return cons, nil
			}
			err = fmt.Errorf("nats consumer %s on stream %s: %w", n.Durable, n.Stream, err)
		}
		var apiErr *jetstream.APIError
		if !errors.As(err, &apiErr) || apiErr.Code != 503 || time.Now().After(deadline) {
			return nil, err
		}
		wait := Backoff{Min: 250 * time.Millisecond, Max: 5 * time.Second}.Delay(try)
		log.Warn("nats: JetStream cannot set up the stream or consumer yet; trying again", "err", err, "retry_in", wait)
		sleep(ctx, wait)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
}

// handle runs Handle for one message and acks it, or asks for a delayed
// redelivery.
func (n *NATS) handle(ctx context.Context, msg jetstream.Msg, ackWait time.Duration, maxDeliver int, log *slog.Logger) {
	var seq, delivered uint64 = 0, 1
	if md, err := msg.Metadata(); err == nil {
		seq, delivered = md.Sequence.Stream, md.NumDelivered
	}
	evs, err := event.Parse(msg.Data())
	if err != nil {
		log.Error("nats: malformed message, dropped", "stream_seq", seq, "subject", msg.Subject(), "err", err)
		if err := msg.Term(); err != nil {
			log.Warn("nats: term", "stream_seq", seq, "err", err)
		}
		return
	}
	if len(evs) > 0 {
		stop := inProgress(ctx, msg, ackWait, log)
		err = n.Handle(ctx, evs)
		stop()
		if err != nil {
			wait := n.Backoff.Delay(int(delivered))
			if maxDeliver > 0 && delivered >= uint64(maxDeliver) {
				log.Error("nats: handler failed on the last delivery; JetStream gives up on the message",
					"stream_seq", seq, "deliveries", delivered, "err", err)
			} else {
				log.Warn("nats: handler failed, message will be delivered again",
					"stream_seq", seq, "deliveries", delivered, "retry_in", wait, "err", err)
			}
			if err := msg.NakWithDelay(wait); err != nil {
				log.Warn("nats: nak", "stream_seq", seq, "err", err)
			}
			return
		}
	}
	if err := msg.Ack(); err != nil {
		log.Warn("nats: ack failed; the message will be delivered again", "stream_seq", seq, "err", err)
	}
}

// inProgress tells JetStream every ackWait/3 that msg is still being
// worked on, until the returned function is called.
func inProgress(ctx context.Context, msg jetstream.Msg, ackWait time.Duration, log *slog.Logger) (stop func()) {
	return heartbeat(ctx, max(ackWait/3, 10*time.Millisecond), func(context.Context) {
		if err := msg.InProgress(); err != nil {
			log.Warn("nats: in-progress ack", "err", err)
		}
	})
}

// ensureStream returns the stream, creating it or adding the subject to it
// as needed. Other ferry processes may do the same at the same time.
func (n *NATS) ensureStream(ctx context.Context, js jetstream.JetStream) (jetstream.Stream, error) {
	s, err := js.Stream(ctx, n.Stream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		if n.Subject == "" {
			return nil, fmt.Errorf("nats stream %s does not exist (give a subject to create it)", n.Stream)
		}
		s, err = js.CreateStream(ctx, jetstream.StreamConfig{
			Name:        n.Stream,
			Description: "S3 event notifications for ferry",
			Subjects:    []string{n.Subject},
			Storage:     jetstream.FileStorage,
			Retention:   jetstream.LimitsPolicy,
			MaxAge:      natsStreamMaxAge,
			Replicas:    max(n.Replicas, 1),
		})
		if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			s, err = js.Stream(ctx, n.Stream) // created by someone else meanwhile
		}
		if err != nil {
			return nil, fmt.Errorf("create nats stream %s for subject %s: %w", n.Stream, n.Subject, err)
		}
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("nats stream %s: %w", n.Stream, err)
	}
	cfg := s.CachedInfo().Config
	if n.Subject == "" {
		return s, nil
	}
	for _, p := range cfg.Subjects {
		if subjectCovered(n.Subject, p) {
			return s, nil
		}
	}
	cfg.Subjects = append(cfg.Subjects, n.Subject)
	s, err = js.UpdateStream(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("add subject %s to nats stream %s: %w", n.Subject, n.Stream, err)
	}
	return s, nil
}

// subjectCovered reports whether every subject that subj matches is matched
// by pattern ("*" is one token, ">" one or more at the end).
func subjectCovered(subj, pattern string) bool {
	s, p := strings.Split(subj, "."), strings.Split(pattern, ".")
	for i, pt := range p {
		if pt == ">" {
			return len(s) > i
		}
		if i >= len(s) {
			return false
		}
		if pt == "*" && s[i] != ">" {
			continue
		}
		if pt != s[i] {
			return false
		}
	}
	return len(s) == len(p)
}
