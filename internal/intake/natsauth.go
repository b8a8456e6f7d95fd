package intake

import (
	"fmt"
	"os"

	"github.com/nats-io/nats.go"

	"github.com/ferry-s3/ferry/internal/config"
)

// NATSOptions are the connection options of run.nats: credentials from a
// file or the environment (never from the config itself), and TLS.
func NATSOptions(n *config.NATS) ([]nats.Option, error) {
	var opts []nats.Option
	env := func(field, name string) (string, error) {
		v := os.Getenv(name)
		if v == "" {
			return "", fmt.Errorf("run.nats.%s: the environment variable %s is not set", field, name)
		}
		return v, nil
	}
	if n.Credentials != "" {
		if _, err := os.Stat(n.Credentials); err != nil {
			return nil, fmt.Errorf("run.nats.credentials: %w", err)
		}
		opts = append(opts, nats.UserCredentials(n.Credentials))
	}
	if n.TokenEnv != "" {
		tok, err := env("token_env", n.TokenEnv)
		if err != nil {
			return nil, err
		}
		opts = append(opts, nats.Token(tok))
	}
	if n.UserEnv != "" {
		user, err := env("user_env", n.UserEnv)
		if err != nil {
			return nil, err
		}
		pass, err := env("password_env", n.PasswordEnv)
		if err != nil {
			return nil, err
		}
		opts = append(opts, nats.UserInfo(user, pass))
	}
	if n.TLSCA != "" {
		opts = append(opts, nats.RootCAs(n.TLSCA))
	}
	if n.TLSCert != "" {
		opts = append(opts, nats.ClientCert(n.TLSCert, n.TLSKey))
	}
	return opts, nil
}
