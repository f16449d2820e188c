// Package proofgate is the partner SDK for the proofgate verification API: proof requests (with
// the QR payload for the citizen's wallet), verification, status, webhook verification, and
// authentication by API key or OAuth2 client credentials. Standard library only.
package proofgate

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// Version of this SDK (sent in User-Agent).
const Version = "0.1.0"

// TokenSource gives access tokens (ClientCredentials is one). After a 401 the client calls
// Invalidate and makes the call once more with a new token.
type TokenSource interface {
	Token(ctx context.Context) (string, error)
	Invalidate()
}

// Client is a partner's client of one proofgate server; safe for concurrent use.
type Client struct {
	baseURL    string
	apiKey     string
	tokens     TokenSource
	httpClient *http.Client
	retry      RetryPolicy
	onRetry    func(attempt int, delay time.Duration, err *Error)
	userAgent  string
	sleep      func(ctx context.Context, d time.Duration) error
	random     func() float64
}

// Option configures a Client.
type Option func(*Client)

// WithAPIKey authenticates with a partner API key ("pg_live_..." or "pg_test_..."): Authorization: Bearer <key>.
func WithAPIKey(key string) Option { return func(c *Client) { c.apiKey = key } }

// WithTokenSource authenticates with access tokens from ts (e.g. ClientCredentials).
func WithTokenSource(ts TokenSource) Option { return func(c *Client) { c.tokens = ts } }

// WithHTTPClient replaces the http.Client (its timeout, transport). Redirects should not be
// followed: the API never redirects.
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.httpClient = h } }

// WithRetryPolicy replaces DefaultRetryPolicy.
func WithRetryPolicy(p RetryPolicy) Option { return func(c *Client) { c.retry = p } }

// WithOnRetry observes each wait before a retry (attempt counts from 1).
func WithOnRetry(f func(attempt int, delay time.Duration, err *Error)) Option {
	return func(c *Client) { c.onRetry = f }
}

// WithUserAgent replaces the User-Agent header.
func WithUserAgent(ua string) Option { return func(c *Client) { c.userAgent = ua } }

// NewClient makes a client of the server at baseURL; exactly one of WithAPIKey and
// WithTokenSource is required.
func NewClient(baseURL string, opts ...Option) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("proofgate: base URL must be an http(s) URL, not %q", baseURL)
	}
	c := &Client{
		baseURL: strings.TrimRight(baseURL, "/"),
		httpClient: &http.Client{
			Timeout:       30 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		retry:     DefaultRetryPolicy,
		userAgent: "proofgate-go/" + Version,
		sleep:     sleepContext,
		random:    cryptoRandom,
	}
	for _, o := range opts {
		o(c)
	}
	if (c.apiKey == "") == (c.tokens == nil) {
		return nil, errors.New("proofgate: give exactly one of WithAPIKey and WithTokenSource")
	}
	return c, nil
}

// QR is the QR code of a proof request: the wallet URI it carries and an SVG of it.
type QR struct {
	URI string `json:"uri"`
	SVG string `json:"svg"`
}

// ProofRequest is the answer of POST /api/v1/requests, what the wallet proves.
type ProofRequest struct {
	RequestID        string          `json:"request_id"`
	Nonce            string          `json:"nonce"`
	ClaimType        string          `json:"claim_type"`
	CircuitVersion   string          `json:"circuit_version"`
	VerifierDomain   string          `json:"verifier_domain"`
	Params           map[string]any  `json:"params"`
	ExpiresAt        string          `json:"expires_at"`
	QR               QR              `json:"qr"`
	AcceptedVersions []string        `json:"accepted_versions,omitempty"`
	Raw              json.RawMessage `json:"-"` // the answer as received
}

// CreateRequestParams are the members of POST /api/v1/requests; zero values are left out.
type CreateRequestParams struct {
	ClaimType      string         `json:"claim_type"`
	CircuitVersion string         `json:"circuit_version,omitempty"`
	VerifierDomain string         `json:"verifier_domain,omitempty"`
	Params         map[string]any `json:"params,omitempty"`
	TTLSeconds     int            `json:"ttl_seconds,omitempty"`
}

// VerifyResult is the answer of POST /api/v1/verify.
type VerifyResult struct {
	Status         string `json:"status"`
	ProofID        string `json:"proof_id"`
	ClaimType      string `json:"claim_type"`
	CircuitVersion string `json:"circuit_version"`
	Nullifier      string `json:"nullifier"`
	TS             string `json:"ts"`
	Issuer         string `json:"issuer"`
	RootSeq        int64  `json:"root_seq"`
	RootAgeSeconds int64  `json:"root_age_seconds"`
	// Replayed: the server answered the stored verdict of an earlier call with the same
	// Idempotency-Key (Idempotent-Replayed: true).
	Replayed bool            `json:"-"`
	Raw      json.RawMessage `json:"-"`
}

// ProofStatus is the answer of GET /api/v1/status/{proof_id}.
type ProofStatus struct {
	ProofID        string          `json:"proof_id"`
	Status         string          `json:"status"`
	ClaimType      string          `json:"claim_type"`
	CircuitVersion string          `json:"circuit_version"`
	CreatedAt      string          `json:"created_at"`
	VerifiedAt     string          `json:"verified_at"`
	Raw            json.RawMessage `json:"-"`
}

// CreateRequest creates a proof request (POST /api/v1/requests).
func (c *Client) CreateRequest(ctx context.Context, p CreateRequestParams) (*ProofRequest, error) {
	body, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	var out ProofRequest
	raw, _, err := c.call(ctx, http.MethodPost, "/api/v1/requests", body, false, nil, &out)
	if err != nil {
		return nil, err
	}
	out.Raw = raw
	return &out, nil
}

// VerifyOption configures one Verify call.
type VerifyOption func(*verifyConfig)

type verifyConfig struct{ idempotencyKey string }

// WithIdempotencyKey sends key instead of a new random UUID.
func WithIdempotencyKey(key string) VerifyOption {
	return func(v *verifyConfig) { v.idempotencyKey = key }
}

// Verify sends the wallet's answer (its JSON as []byte or json.RawMessage, sent as it is, or a
// value to marshal) to POST /api/v1/verify. An Idempotency-Key (a new UUID unless given) is sent
// and reused by every retry of this call, so a retry after a lost answer gets the first verdict,
// never NONCE_REPLAY. A rejected proof is an *Error whose ProofID names the failed attempt.
func (c *Client) Verify(ctx context.Context, proof any, opts ...VerifyOption) (*VerifyResult, error) {
	var body []byte
	switch p := proof.(type) {
	case []byte:
		body = p
	case json.RawMessage:
		body = p
	case string:
		body = []byte(p)
	default:
		b, err := json.Marshal(p)
		if err != nil {
			return nil, err
		}
		body = b
	}
	cfg := verifyConfig{}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.idempotencyKey == "" {
		cfg.idempotencyKey = newUUID()
	} else if !printableASCII(cfg.idempotencyKey, 255) {
		return nil, errors.New("proofgate: the idempotency key must be 1-255 printable ASCII characters")
	}
	var out VerifyResult
	raw, h, err := c.call(ctx, http.MethodPost, "/api/v1/verify", body, true,
		map[string]string{"Idempotency-Key": cfg.idempotencyKey}, &out)
	if err != nil {
		return nil, err
	}
	out.Raw = raw
	out.Replayed = strings.EqualFold(h.Get("Idempotent-Replayed"), "true")
	return &out, nil
}

// Status reads a proof's status (GET /api/v1/status/{proof_id}).
func (c *Client) Status(ctx context.Context, proofID string) (*ProofStatus, error) {
	if proofID == "" {
		return nil, errors.New("proofgate: the proof id is empty")
	}
	var out ProofStatus
	raw, _, err := c.call(ctx, http.MethodGet, "/api/v1/status/"+url.PathEscape(proofID), nil, true, nil, &out)
	if err != nil {
		return nil, err
	}
	out.Raw = raw
	return &out, nil
}

func (c *Client) authorization(ctx context.Context) (string, error) {
	if c.tokens != nil {
		t, err := c.tokens.Token(ctx)
		if err != nil {
			return "", err
		}
		return "Bearer " + t, nil
	}
	return "Bearer " + c.apiKey, nil
}

// call makes the request with the retry policy and decodes a 2xx answer into out.
func (c *Client) call(ctx context.Context, method, path string, body []byte, repeatable bool,
	headers map[string]string, out any) (json.RawMessage, http.Header, error) {
	policy := c.retry
	if policy.MaxAttempts < 1 {
		policy.MaxAttempts = 1
	}
	started := time.Now()
	refreshed := false
	for attempt := 1; ; {
		auth, err := c.authorization(ctx)
		if err != nil {
			return nil, nil, err
		}
		status, h, data, netErr := c.exchange(ctx, method, path, body, auth, headers)
		var failure *Error
		retryable := false
		if netErr != nil {
			failure = netErr
			retryable = (repeatable || !netErr.sent) && ctx.Err() == nil
		} else {
			requestID := h.Get("X-Request-Id")
			if status >= 200 && status < 300 {
				if err := json.Unmarshal(data, out); err != nil {
					return nil, nil, &Error{Status: status, Code: "BAD_RESPONSE",
						Detail: "the answer is not the expected JSON: " + err.Error(), RequestID: requestID}
				}
				return data, h, nil
			}
			retryAfter, _ := ParseRetryAfter(h.Get("Retry-After"), time.Now())
			failure = errorFromAnswer(status, data, requestID, retryAfter)
			if status == http.StatusUnauthorized && c.tokens != nil && !refreshed {
				// The token may have expired or been revoked early: one new token, once.
				refreshed = true
				c.tokens.Invalidate()
				continue
			}
			retryable = status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable
		}
		if !retryable || attempt >= policy.MaxAttempts || failure.RetryAfter > policy.MaxRetryAfter {
			return nil, nil, failure
		}
		delay := backoffDelay(attempt-1, policy.BaseDelay, policy.MaxDelay, c.random())
		if failure.RetryAfter > delay {
			delay = failure.RetryAfter
		}
		if policy.MaxElapsed > 0 && time.Since(started)+delay > policy.MaxElapsed {
			return nil, nil, failure
		}
		if c.onRetry != nil {
			c.onRetry(attempt, delay, failure)
		}
		if err := c.sleep(ctx, delay); err != nil {
			return nil, nil, err
		}
		attempt++
	}
}

func (c *Client) exchange(ctx context.Context, method, path string, body []byte, auth string,
	headers map[string]string) (int, http.Header, []byte, *Error) {
	var reader io.Reader
	if body != nil {
		reader = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.baseURL+path, reader)
	if err != nil {
		return 0, nil, nil, &Error{Code: "NETWORK", Detail: err.Error(), Err: err}
	}
	req.Header.Set("Accept", "application/json, application/problem+json")
	req.Header.Set("User-Agent", c.userAgent)
	req.Header.Set("Authorization", auth)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := c.httpClient.Do(req)
	if err != nil {
		return 0, nil, nil, &Error{Code: "NETWORK", Detail: err.Error(), Err: err,
			sent: !errors.Is(err, syscall.ECONNREFUSED)}
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, 16<<20))
	if err != nil {
		return 0, nil, nil, &Error{Code: "NETWORK", Detail: err.Error(), Err: err, sent: true}
	}
	return res.StatusCode, res.Header, data, nil
}

func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func cryptoRandom() float64 {
	n, err := rand.Int(rand.Reader, big.NewInt(1<<53))
	if err != nil {
		return 1
	}
	return float64(n.Int64()) / float64(1<<53)
}

func newUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("proofgate: no randomness: " + err.Error())
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func printableASCII(s string, max int) bool {
	if len(s) == 0 || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
