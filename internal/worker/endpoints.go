package worker

import "github.com/ferry-s3/ferry/internal/endpoint"

// Endpoints returns the endpoint of each destination bucket, by bucket
// name, and the source's under "": for the daemon, which retries the work
// waiting for an endpoint as soon as it answers again after an outage.
func (w *Worker) Endpoints() map[string]*endpoint.Endpoint {
	eps := map[string]*endpoint.Endpoint{"": w.src.EP}
	for _, d := range w.order {
		eps[d.bucket.Name] = d.bucket.EP
	}
	return eps
}
