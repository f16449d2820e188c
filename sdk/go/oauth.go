package proofgate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// ClientCredentials is an OAuth2 client-credentials token source (RFC 6749 §4.4): it posts
// grant_type=client_credentials to the token endpoint with HTTP Basic client authentication
// (client_secret_basic, §2.3.1) and keeps each access token until RefreshMargin before its
// expires_in runs out. Safe for concurrent use; concurrent callers share one fetch.
//
//	tokens := proofgate.NewClientCredentials("https://verify.example/oauth/token", id, secret)
//	client, err := proofgate.NewClient("https://verify.example", proofgate.WithTokenSource(tokens))
//
// A refused token request is an *Error whose Code is the RFC 6749 §5.2 error ("invalid_client").
type ClientCredentials struct {
	TokenURL      string
	ClientID      string
	ClientSecret  string
	Scope         string        // space-separated scopes to ask for; empty: the client's own
	RefreshMargin time.Duration // default 30 s
	HTTPClient    *http.Client  // default: 10 s timeout, no redirects

	mu        sync.Mutex
	token     string
	expiresAt time.Time
	now       func() time.Time
}

// NewClientCredentials makes a token source for the endpoint tokenURL.
func NewClientCredentials(tokenURL, clientID, clientSecret string) *ClientCredentials {
	return &ClientCredentials{TokenURL: tokenURL, ClientID: clientID, ClientSecret: clientSecret,
		RefreshMargin: 30 * time.Second}
}

func (cc *ClientCredentials) clock() time.Time {
	if cc.now != nil {
		return cc.now()
	}
	return time.Now()
}

// Token gives the cached access token, or fetches a new one.
func (cc *ClientCredentials) Token(ctx context.Context) (string, error) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cc.token != "" && cc.clock().Before(cc.expiresAt) {
		return cc.token, nil
	}
	token, lifetime, err := cc.fetch(ctx)
	if err != nil {
		return "", err
	}
	keep := lifetime - cc.RefreshMargin
	if keep < 0 {
		keep = 0
	}
	cc.token, cc.expiresAt = token, cc.clock().Add(keep)
	return token, nil
}

// Invalidate forgets the cached token (the API answered 401).
func (cc *ClientCredentials) Invalidate() {
	cc.mu.Lock()
	cc.token, cc.expiresAt = "", time.Time{}
	cc.mu.Unlock()
}

func (cc *ClientCredentials) fetch(ctx context.Context) (string, time.Duration, error) {
	if cc.ClientID == "" || cc.ClientSecret == "" {
		return "", 0, errors.New("proofgate: client id and client secret are required")
	}
	form := url.Values{"grant_type": {"client_credentials"}}
	if cc.Scope != "" {
		form.Set("scope", cc.Scope)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cc.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", 0, err
	}
	// RFC 6749 §2.3.1: the id and the secret form-urlencoded, then Basic.
	req.SetBasicAuth(url.QueryEscape(cc.ClientID), url.QueryEscape(cc.ClientSecret))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	hc := cc.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	res, err := hc.Do(req)
	if err != nil {
		return "", 0, &Error{Code: "NETWORK", Detail: err.Error(), Err: err, sent: true}
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return "", 0, &Error{Code: "NETWORK", Detail: err.Error(), Err: err, sent: true}
	}
	requestID := res.Header.Get("X-Request-Id")
	if res.StatusCode != http.StatusOK {
		return "", 0, errorFromAnswer(res.StatusCode, data, requestID, 0)
	}
	var answer struct {
		AccessToken string   `json:"access_token"`
		TokenType   string   `json:"token_type"`
		ExpiresIn   *float64 `json:"expires_in"`
	}
	if err := json.Unmarshal(data, &answer); err != nil || answer.AccessToken == "" ||
		!strings.EqualFold(answer.TokenType, "bearer") {
		return "", 0, &Error{Status: res.StatusCode, Code: "BAD_RESPONSE",
			Detail: "the token answer lacks a Bearer access_token", RequestID: requestID}
	}
	lifetime := 60 * time.Second
	if answer.ExpiresIn != nil {
		if *answer.ExpiresIn < 0 {
			return "", 0, &Error{Status: res.StatusCode, Code: "BAD_RESPONSE",
				Detail: fmt.Sprintf("expires_in %v is negative", *answer.ExpiresIn), RequestID: requestID}
		}
		lifetime = time.Duration(*answer.ExpiresIn * float64(time.Second))
	}
	return answer.AccessToken, lifetime, nil
}
