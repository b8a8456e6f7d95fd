package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/ferry-s3/ferry/internal/config"
)

// webhookTimeout bounds one POST, response included.
const webhookTimeout = 10 * time.Second

// webhook POSTs each message as application/json.
type webhook struct {
	url    string
	name   string // url without secrets, for logs
	token  string
	client *http.Client
}

func newWebhook(c *config.NotifyWebhook) (*webhook, error) {
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("webhook url %q: want http(s)://host/path", safeURL(c.URL))
	}
	token := c.Token
	if c.TokenEnv != "" {
		token = os.Getenv(c.TokenEnv)
		if token == "" {
			return nil, fmt.Errorf("webhook %s: environment variable %s is empty or not set (it holds the bearer token)", safeURL(c.URL), c.TokenEnv)
		}
	}
	return &webhook{
		url:    c.URL,
		name:   safeURL(c.URL),
		token:  token,
		client: &http.Client{Timeout: webhookTimeout, Transport: http.DefaultTransport.(*http.Transport).Clone()},
	}, nil
}

func (w *webhook) String() string { return "webhook " + w.name }

func (w *webhook) deliver(ctx context.Context, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return permanent(fmt.Errorf("POST %s: %w", w.name, err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "ferry")
	if w.token != "" {
		req.Header.Set("Authorization", "Bearer "+w.token)
	}
	resp, err := w.client.Do(req)
	if err != nil {
		// A *url.Error repeats the URL, which may hold a secret.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("POST %s: %w", w.name, err)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // reuse the connection
	if resp.StatusCode/100 == 2 {
		return nil
	}
	err = fmt.Errorf("POST %s: %s%s", w.name, resp.Status, detail(snippet))
	switch {
	case resp.StatusCode >= 500, resp.StatusCode == http.StatusRequestTimeout, resp.StatusCode == http.StatusTooManyRequests:
		return err
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return permanent(fmt.Errorf("%w (check the webhook's token)", err))
	}
	return permanent(err)
}

// detail is the start of a response body, on one line.
func detail(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if s == "" {
		return ""
	}
	return ": " + s
}

// safeURL is raw without a password or query, either of which may carry
// a credential.
func safeURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	if u.RawQuery != "" {
		u.RawQuery = "…"
	}
	return u.Redacted()
}
