package intake

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/ferry-s3/ferry/internal/event"
)

// SQS is the intake for an SQS queue that receives S3 event notifications,
// directly or through SNS or EventBridge. SQS keeps each message until
// Handle returns nil; then it is deleted. A message whose Handle fails is
// hidden for Backoff.Delay(receive count) and delivered again, so that after
// the queue's maxReceiveCount SQS moves it to the queue's dead-letter queue.
//
// Several processes may share one queue: SQS hands each message to one of
// them at a time.
type SQS struct {
	Client   *sqs.Client
	QueueURL string
	Handle   Handler
	// Workers is how many messages are handled at once; 0 means 10. No more
	// messages are received than there are free workers, so none waits
	// hidden in a buffer.
	Workers int
	// Backoff spaces the deliveries of a message whose Handle failed. A
	// malformed message is hidden for Backoff.Max per delivery, on its way
	// to the dead-letter queue.
	Backoff Backoff
	Log     *slog.Logger
}

const (
	sqsWait     = 20 // seconds of long polling, the most SQS allows
	sqsMaxBatch = 10 // messages per ReceiveMessage and DeleteMessageBatch
	// sqsMaxVisibility is the longest visibility timeout SQS accepts.
	sqsMaxVisibility = 12 * time.Hour
)

// Run receives and handles messages until ctx is canceled, then waits for
// the handlers that are running (they get a context that is not canceled)
// and deletes the messages they finished. Messages not done reappear in the
// queue after their visibility timeout. Run returns nil after a cancel, or
// an error when the queue cannot be used.
func (q *SQS) Run(ctx context.Context) error {
	if q.Client == nil || q.QueueURL == "" || q.Handle == nil {
		return errors.New("sqs intake: Client, QueueURL and Handle are required")
	}
	workers := q.Workers
	if workers <= 0 {
		workers = 10
	}
	log := logger(q.Log).With("queue", q.QueueURL)

	// The queue's visibility timeout says how often a slow handler must
	// extend it; asking for it also checks the queue and the permissions.
	attrs, err := q.Client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(q.QueueURL),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameVisibilityTimeout},
	})
	if err != nil {
		return fmt.Errorf("sqs queue %s: %w", q.QueueURL, err)
	}
	visibility := 30 * time.Second
	if s, err := strconv.Atoi(attrs.Attributes[string(types.QueueAttributeNameVisibilityTimeout)]); err == nil {
		visibility = time.Duration(s) * time.Second
	}

	// Handlers and deletions outlive a cancel: finished work is deleted.
	hctx := context.WithoutCancel(ctx)
	done := make(chan string, workers)
	deleted := make(chan struct{})
	go func() {
		defer close(deleted)
		q.deleteLoop(hctx, done, log)
	}()

	sem := make(chan struct{}, workers) // one token per running handler
	var wg sync.WaitGroup
	var runErr error
	for fails := 0; ; {
		if !waitFree(ctx, sem) {
			break
		}
		out, err := q.Client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:                    aws.String(q.QueueURL),
			MaxNumberOfMessages:         int32(min(sqsMaxBatch, workers-len(sem))),
			WaitTimeSeconds:             sqsWait,
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameApproximateReceiveCount},
		})
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			var gone *types.QueueDoesNotExist
			if errors.As(err, &gone) {
				runErr = fmt.Errorf("sqs queue %s: %w", q.QueueURL, err)
				break
			}
			fails++
			wait := Backoff{Max: 30 * time.Second}.Delay(fails)
			log.Warn("sqs: receive failed", "err", err, "retry_in", wait)
			sleep(ctx, wait)
			continue
		}
		fails = 0
		for _, m := range out.Messages {
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				q.handle(hctx, m, visibility, done, log)
			}()
		}
	}
	wg.Wait()
	close(done)
	<-deleted
	return runErr
}

// handle runs Handle for one message and sends its receipt handle to done,
// or hides the message for the backoff.
func (q *SQS) handle(ctx context.Context, m types.Message, visibility time.Duration, done chan<- string, log *slog.Logger) {
	id := aws.ToString(m.MessageId)
	n, err := strconv.Atoi(m.Attributes[string(types.MessageSystemAttributeNameApproximateReceiveCount)])
	if err != nil || n < 1 {
		n = 1
	}
	evs, err := event.Parse([]byte(aws.ToString(m.Body)))
	if err != nil {
		// Not deleted: after maxReceiveCount deliveries, SQS moves it to
		// the dead-letter queue, where someone can look at it.
		log.Error("sqs: malformed message, left for the dead-letter queue", "message_id", id, "receive_count", n, "err", err)
		_, longest := q.Backoff.bounds()
		q.hide(ctx, m, longest, log)
		return
	}
	if len(evs) > 0 {
		stop := q.keepHidden(ctx, m, visibility, log)
		err = q.Handle(ctx, evs)
		stop()
		if err != nil {
			wait := q.Backoff.Delay(n)
			log.Warn("sqs: handler failed, message will be delivered again", "message_id", id, "receive_count", n, "retry_in", wait, "err", err)
			q.hide(ctx, m, wait, log)
			return
		}
	}
	done <- aws.ToString(m.ReceiptHandle)
}

// hide sets the visibility timeout of m to d (whole seconds, at least 1).
func (q *SQS) hide(ctx context.Context, m types.Message, d time.Duration, log *slog.Logger) {
	secs := int32(min((d+time.Second-1)/time.Second, sqsMaxVisibility/time.Second))
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	_, err := q.Client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
		QueueUrl:          aws.String(q.QueueURL),
		ReceiptHandle:     m.ReceiptHandle,
		VisibilityTimeout: max(secs, 1),
	})
	if err != nil {
		log.Warn("sqs: could not delay the next delivery", "message_id", aws.ToString(m.MessageId), "err", err)
	}
}

// keepHidden extends the visibility of m while its handler runs, so that
// a handler slower than the queue's visibility timeout does not see its
// message delivered a second time. It returns a function that stops it.
func (q *SQS) keepHidden(ctx context.Context, m types.Message, visibility time.Duration, log *slog.Logger) (stop func()) {
	return heartbeat(ctx, max(visibility/2, 500*time.Millisecond), func(ctx context.Context) {
		_, err := q.Client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
			QueueUrl:          aws.String(q.QueueURL),
			ReceiptHandle:     m.ReceiptHandle,
			VisibilityTimeout: int32(max(visibility/time.Second, 1)),
		})
		if err != nil && ctx.Err() == nil {
			log.Warn("sqs: could not extend the visibility of a message in progress", "message_id", aws.ToString(m.MessageId), "err", err)
		}
	})
}

// deleteLoop deletes the messages whose receipt handles arrive on done, in
// batches of up to 10 gathered for at most 50 ms, until done is closed.
func (q *SQS) deleteLoop(ctx context.Context, done <-chan string, log *slog.Logger) {
	for h := range done {
		batch := []string{h}
		linger := time.NewTimer(50 * time.Millisecond)
	gather:
		for len(batch) < sqsMaxBatch {
			select {
			case h, ok := <-done:
				if !ok {
					break gather
				}
				batch = append(batch, h)
			case <-linger.C:
				break gather
			}
		}
		linger.Stop()
		q.deleteBatch(ctx, batch, log)
	}
}

func (q *SQS) deleteBatch(ctx context.Context, handles []string, log *slog.Logger) {
	entries := make([]types.DeleteMessageBatchRequestEntry, len(handles))
	for i, h := range handles {
		entries[i] = types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: aws.String(h)}
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	out, err := q.Client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(q.QueueURL), Entries: entries})
	if err != nil {
		log.Error("sqs: could not delete handled messages; they will be delivered again", "messages", len(handles), "err", err)
		return
	}
	for _, f := range out.Failed {
		log.Error("sqs: could not delete a handled message; it will be delivered again",
			"code", aws.ToString(f.Code), "err", aws.ToString(f.Message))
	}
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
