package lambda

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/ferry-s3/ferry/internal/event"
)

// maxConcurrent bounds the messages of one batch handled at once. Each
// may stream a large copy; more concurrency comes from more instances.
const maxConcurrent = 4

// invokeSQS handles an SQS batch. Messages run concurrently, but those
// naming the same object run one after another in batch order, so two
// copies never race on one destination key. The response lists every
// message that failed, was malformed or was not started in time: SQS
// deletes the others and delivers these again (this needs
// ReportBatchItemFailures on the event source mapping).
func invokeSQS(ctx context.Context, h Handler, payload []byte) (events.SQSEventResponse, error) {
	var batch events.SQSEvent
	if err := json.Unmarshal(payload, &batch); err != nil {
		return events.SQSEventResponse{}, fmt.Errorf("malformed SQS batch: %w", err)
	}
	log := logger(ctx)
	stop, end := budget(ctx)
	workCtx, cancel := context.WithDeadline(ctx, end)
	defer cancel()

	var (
		wg     sync.WaitGroup
		slots  = make(chan struct{}, maxConcurrent)
		last   = map[string]chan struct{}{} // object -> done of the last message naming it
		failed = make([]bool, len(batch.Records))
		late   = make([]bool, len(batch.Records))
	)
	for i, m := range batch.Records {
		evs, err := event.Parse([]byte(m.Body))
		if err != nil {
			// The body may hold anything; the id finds it in the queue.
			log.Warn("lambda: malformed SQS message", "messageId", m.MessageId, "error", err)
			failed[i] = true
			continue
		}
		done := make(chan struct{})
		var before []chan struct{}
		for _, e := range evs {
			k := e.Bucket + "/" + e.Key
			// c == done: the message names the object twice.
			if c, ok := last[k]; ok && c != done {
				before = append(before, c)
			}
			last[k] = done
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(done)
			// Wait for earlier messages of the same objects before taking a
			// slot, so a waiting message never holds one.
			for _, c := range before {
				<-c
			}
			slots <- struct{}{}
			defer func() { <-slots }()
			if time.Now().After(stop) || ctx.Err() != nil {
				failed[i], late[i] = true, true
				return
			}
			if len(evs) == 0 {
				return
			}
			if err := h(workCtx, evs); err != nil {
				log.Warn("lambda: SQS message failed", "messageId", m.MessageId, "error", err)
				failed[i] = true
			}
		}()
	}
	wg.Wait()

	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	nlate := 0
	for i, m := range batch.Records {
		if failed[i] {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
		}
		if late[i] {
			nlate++
		}
	}
	if nlate > 0 {
		log.Warn("lambda: deadline near, messages left for redelivery", "messages", nlate, "batch", len(batch.Records))
	}
	return resp, nil
}

// budget splits the time left before the invocation's deadline. No message
// starts after stop (10% of the time left, at least 5s, at most half, before
// the deadline), so the started ones can finish. Handlers are cancelled at
// end, shortly before the deadline, so the partial response still reaches
// Lambda: a batch that times out is delivered again as a whole.
func budget(ctx context.Context) (stop, end time.Time) {
	deadline, ok := ctx.Deadline()
	if !ok {
		never := time.Now().Add(100 * 365 * 24 * time.Hour)
		return never, never
	}
	left := time.Until(deadline)
	reserve := min(max(left/10, 5*time.Second), left/2)
	return deadline.Add(-reserve), deadline.Add(-reserve / 5)
}
