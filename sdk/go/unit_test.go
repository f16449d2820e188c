package proofgate

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The Standard Webhooks specification's test vector (as tests/webhooks/signer_test.cpp).
const (
	vecSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vecID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vecTS        = int64(1614265330)
	vecBody      = `{"test": 2432232314}`
	vecSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func vecHeaders(id, ts, sig string) http.Header {
	h := http.Header{}
	h.Set("webhook-id", id)
	h.Set("webhook-timestamp", ts)
	h.Set("webhook-signature", sig)
	return h
}

func mustWebhook(t *testing.T, secrets ...string) *Webhook {
	t.Helper()
	w, err := NewWebhook(secrets...)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestWebhookSpecificationVector(t *testing.T) {
	w := mustWebhook(t, vecSecret)
	e, err := w.VerifyAt([]byte(vecBody), vecHeaders(vecID, "1614265330", vecSignature), time.Unix(vecTS, 0))
	if err != nil {
		t.Fatal(err)
	}
	if e["test"] != float64(2432232314) {
		t.Fatalf("payload %v", e)
	}
}

func TestWebhookRefusesAnyChange(t *testing.T) {
	w := mustWebhook(t, vecSecret)
	at := time.Unix(vecTS, 0)
	cases := map[string]struct {
		body string
		h    http.Header
	}{
		"body":      {`{"test": 2432232315}`, vecHeaders(vecID, "1614265330", vecSignature)},
		"id":        {vecBody, vecHeaders("msg_other", "1614265330", vecSignature)},
		"signature": {vecBody, vecHeaders(vecID, "1614265330", strings.Replace(vecSignature, "g0h", "g0i", 1))},
		"version":   {vecBody, vecHeaders(vecID, "1614265330", strings.Replace(vecSignature, "v1,", "v2,", 1))},
		"timestamp": {vecBody, vecHeaders(vecID, "1614265331", vecSignature)},
		"missing":   {vecBody, vecHeaders(vecID, "1614265330", "")},
	}
	for name, c := range cases {
		if _, err := w.VerifyAt([]byte(c.body), c.h, at); !errors.Is(err, ErrWebhookVerification) {
			t.Errorf("%s: got %v, want ErrWebhookVerification", name, err)
		}
	}
}

func TestWebhookTolerance(t *testing.T) {
	w := mustWebhook(t, vecSecret)
	h := vecHeaders(vecID, "1614265330", vecSignature)
	for _, d := range []int64{300, -300} {
		if _, err := w.VerifyAt([]byte(vecBody), h, time.Unix(vecTS+d, 0)); err != nil {
			t.Errorf("%+d s: %v", d, err)
		}
	}
	for _, d := range []int64{301, -301} {
		if _, err := w.VerifyAt([]byte(vecBody), h, time.Unix(vecTS+d, 0)); err == nil {
			t.Errorf("%+d s accepted", d)
		}
	}
}

func TestWebhookRotationAndSeveralEntries(t *testing.T) {
	other := "whsec_" + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("k", 32)))
	at := time.Unix(vecTS, 0)
	two := vecHeaders(vecID, "1614265330", "v1,AAAA "+vecSignature)
	if _, err := mustWebhook(t, vecSecret).VerifyAt([]byte(vecBody), two, at); err != nil {
		t.Fatal(err)
	}
	h := vecHeaders(vecID, "1614265330", vecSignature)
	if _, err := mustWebhook(t, other, vecSecret).VerifyAt([]byte(vecBody), h, at); err != nil {
		t.Fatal(err)
	}
	if _, err := mustWebhook(t, other).VerifyAt([]byte(vecBody), h, at); err == nil {
		t.Fatal("another secret accepted")
	}
	for _, bad := range []string{"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_!!!", "whsec_" + base64.StdEncoding.EncodeToString([]byte("short"))} {
		if _, err := NewWebhook(bad); err == nil {
			t.Errorf("secret %q accepted", bad)
		}
	}
}

func TestWebhookSHA256Header(t *testing.T) {
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(vecSecret, "whsec_"))
	m := hmac.New(sha256.New, key)
	m.Write([]byte(vecBody))
	good := "sha256=" + hex.EncodeToString(m.Sum(nil))
	w := mustWebhook(t, vecSecret)
	h := http.Header{}
	h.Set("X-Proofgate-Signature", "sha256=00,"+good)
	if _, err := w.VerifySHA256([]byte(vecBody), h); err != nil {
		t.Fatal(err)
	}
	if _, err := w.VerifySHA256([]byte(vecBody+" "), h); !errors.Is(err, ErrWebhookVerification) {
		t.Fatalf("a changed body: %v", err)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	cases := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"3", 3 * time.Second, true},
		{" 0 ", 0, true},
		{"", 0, false},
		{"soon", 0, false},
		{"-1", 0, false},
		{now.Add(7 * time.Second).UTC().Format(http.TimeFormat), 7 * time.Second, true},
		{now.Add(-time.Minute).UTC().Format(http.TimeFormat), 0, true},
	}
	for _, c := range cases {
		got, ok := ParseRetryAfter(c.in, now)
		if got != c.want || ok != c.ok {
			t.Errorf("ParseRetryAfter(%q) = %v, %v; want %v, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestBackoffFullJitter(t *testing.T) {
	base, max := 250*time.Millisecond, 8*time.Second
	if d := backoffDelay(0, base, max, 0); d != 0 {
		t.Errorf("rand 0: %v", d)
	}
	if d := backoffDelay(3, base, max, 0.5); d != time.Second {
		t.Errorf("attempt 3: %v", d)
	}
	if d := backoffDelay(20, base, max, 0.5); d != 4*time.Second {
		t.Errorf("capped: %v", d)
	}
}

// stub answers each path from a list of answers used in turn (the last repeats) and records
// every request.
type stub struct {
	mu       sync.Mutex
	answers  map[string][]answer
	requests []*http.Request
	bodies   []string
	srv      *httptest.Server
}

type answer struct {
	status  int
	headers map[string]string
	body    string
}

func newStub(t *testing.T) *stub {
	s := &stub{answers: map[string][]answer{}}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.requests = append(s.requests, r)
		s.bodies = append(s.bodies, string(b))
		list := s.answers[r.Method+" "+r.URL.Path]
		a := answer{404, nil, `{"error_code":"NOT_FOUND","status":404}`}
		if len(list) > 0 {
			a = list[0]
			if len(list) > 1 {
				s.answers[r.Method+" "+r.URL.Path] = list[1:]
			}
		}
		s.mu.Unlock()
		for k, v := range a.headers {
			w.Header().Set(k, v)
		}
		w.WriteHeader(a.status)
		io.WriteString(w, a.body)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *stub) on(route string, a ...answer) { s.mu.Lock(); s.answers[route] = a; s.mu.Unlock() }

func (s *stub) sent(path string) []*http.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*http.Request
	for _, r := range s.requests {
		if r.URL.Path == path {
			out = append(out, r)
		}
	}
	return out
}

func tokenAnswer(token string, expiresIn int) answer {
	return answer{200, map[string]string{"Content-Type": "application/json"},
		`{"access_token":"` + token + `","token_type":"Bearer","expires_in":` + strconv.Itoa(expiresIn) + `,"scope":"age_over_18"}`}
}

func TestClientCredentialsBasicAuthAndForm(t *testing.T) {
	s := newStub(t)
	s.on("POST /oauth/token", tokenAnswer("t1", 300))
	cc := NewClientCredentials(s.srv.URL+"/oauth/token", "pgc_id:1", "s3cr3t/+")
	cc.Scope = "age_over_18"
	tok, err := cc.Token(context.Background())
	if err != nil || tok != "t1" {
		t.Fatalf("%q %v", tok, err)
	}
	r := s.sent("/oauth/token")[0]
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte("pgc_id%3A1:s3cr3t%2F%2B"))
	if got := r.Header.Get("Authorization"); got != want {
		t.Errorf("Authorization %q, want %q", got, want)
	}
	if got := r.Header.Get("Content-Type"); got != "application/x-www-form-urlencoded" {
		t.Errorf("Content-Type %q", got)
	}
	if s.bodies[0] != "grant_type=client_credentials&scope=age_over_18" {
		t.Errorf("body %q", s.bodies[0])
	}
}

func TestClientCredentialsCachedUntilShortlyBeforeExpiry(t *testing.T) {
	s := newStub(t)
	s.on("POST /oauth/token", tokenAnswer("t1", 300), tokenAnswer("t2", 300))
	now := time.Unix(1000, 0)
	cc := NewClientCredentials(s.srv.URL+"/oauth/token", "id", "secret")
	cc.now = func() time.Time { return now }
	ctx := context.Background()
	if tok, _ := cc.Token(ctx); tok != "t1" {
		t.Fatal(tok)
	}
	now = now.Add(269 * time.Second)
	if tok, _ := cc.Token(ctx); tok != "t1" || len(s.sent("/oauth/token")) != 1 {
		t.Fatalf("%s after 269 s, %d fetches", tok, len(s.sent("/oauth/token")))
	}
	now = now.Add(2 * time.Second) // within the 30 s margin
	if tok, _ := cc.Token(ctx); tok != "t2" || len(s.sent("/oauth/token")) != 2 {
		t.Fatalf("%s after 271 s", tok)
	}
}

func TestClientCredentialsErrorsAreTyped(t *testing.T) {
	s := newStub(t)
	s.on("POST /oauth/token", answer{401, map[string]string{"Content-Type": "application/json"},
		`{"error":"invalid_client","error_description":"client authentication failed"}`})
	_, err := NewClientCredentials(s.srv.URL+"/oauth/token", "id", "secret").Token(context.Background())
	var pe *Error
	if !errors.As(err, &pe) || pe.Status != 401 || pe.Code != "invalid_client" || !strings.Contains(pe.Detail, "failed") {
		t.Fatalf("%#v", err)
	}
	s.on("POST /oauth/token", answer{200, nil, `{"access_token":"x","token_type":"mac"}`})
	_, err = NewClientCredentials(s.srv.URL+"/oauth/token", "id", "secret").Token(context.Background())
	if !errors.As(err, &pe) || pe.Code != "BAD_RESPONSE" {
		t.Fatalf("%v", err)
	}
}

func TestClientRefreshesTheTokenOnceOn401(t *testing.T) {
	s := newStub(t)
	s.on("POST /oauth/token", tokenAnswer("old", 300), tokenAnswer("new", 300), tokenAnswer("newer", 300))
	unauthorized := answer{401, map[string]string{"WWW-Authenticate": "Bearer"}, `{"status":401,"error_code":"UNAUTHORIZED","detail":"the token expired"}`}
	s.on("GET /api/v1/status/p1", unauthorized, answer{200, nil, `{"proof_id":"p1","status":"verified"}`})
	c, err := NewClient(s.srv.URL, WithTokenSource(NewClientCredentials(s.srv.URL+"/oauth/token", "id", "secret")))
	if err != nil {
		t.Fatal(err)
	}
	st, err := c.Status(context.Background(), "p1")
	if err != nil || st.Status != "verified" {
		t.Fatalf("%v %v", st, err)
	}
	var auths []string
	for _, r := range s.sent("/api/v1/status/p1") {
		auths = append(auths, r.Header.Get("Authorization"))
	}
	if strings.Join(auths, ",") != "Bearer old,Bearer new" {
		t.Fatalf("%v", auths)
	}
	s.on("GET /api/v1/status/p2", unauthorized)
	_, err = c.Status(context.Background(), "p2")
	var pe *Error
	if !errors.As(err, &pe) || pe.Code != "UNAUTHORIZED" || len(s.sent("/oauth/token")) != 3 {
		t.Fatalf("%v, %d token fetches", err, len(s.sent("/oauth/token")))
	}
}

func testClient(t *testing.T, s *stub, sleeps *[]time.Duration, opts ...Option) *Client {
	c, err := NewClient(s.srv.URL, append([]Option{WithAPIKey("pgk_test")}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	c.sleep = func(_ context.Context, d time.Duration) error { *sleeps = append(*sleeps, d); return nil }
	c.random = func() float64 { return 0.5 }
	return c
}

func TestRetryBoundsAndRetryAfter(t *testing.T) {
	s := newStub(t)
	var sleeps []time.Duration
	s.on("GET /api/v1/status/x", answer{503, map[string]string{"Retry-After": "1"}, `{"error_code":"NOT_READY","detail":"busy"}`})
	p := DefaultRetryPolicy
	p.MaxAttempts = 3
	_, err := testClient(t, s, &sleeps, WithRetryPolicy(p)).Status(context.Background(), "x")
	var pe *Error
	if !errors.As(err, &pe) || pe.Code != "NOT_READY" || pe.RetryAfter != time.Second {
		t.Fatalf("%v", err)
	}
	if len(s.sent("/api/v1/status/x")) != 3 || len(sleeps) != 2 || sleeps[0] != time.Second {
		t.Fatalf("%d requests, sleeps %v", len(s.sent("/api/v1/status/x")), sleeps)
	}
	sleeps = nil
	s.on("GET /api/v1/status/y", answer{429, map[string]string{"Retry-After": "3600"}, `{"error_code":"RATE_LIMITED"}`})
	_, err = testClient(t, s, &sleeps).Status(context.Background(), "y")
	if !errors.As(err, &pe) || pe.Status != 429 || len(sleeps) != 0 {
		t.Fatalf("a long Retry-After: %v, sleeps %v", err, sleeps)
	}
}

func TestVerifyReusesItsIdempotencyKey(t *testing.T) {
	s := newStub(t)
	var sleeps []time.Duration
	busy := answer{503, nil, `{"error_code":"NOT_READY"}`}
	s.on("POST /api/v1/verify", busy, busy, answer{200, map[string]string{"Idempotent-Replayed": "true"}, `{"status":"verified","proof_id":"p"}`})
	res, err := testClient(t, s, &sleeps).Verify(context.Background(), []byte(`{"claim_type":"age_over_18"}`))
	if err != nil || res.ProofID != "p" || !res.Replayed {
		t.Fatalf("%v %v", res, err)
	}
	sent := s.sent("/api/v1/verify")
	if len(sent) != 3 {
		t.Fatalf("%d attempts", len(sent))
	}
	key := sent[0].Header.Get("Idempotency-Key")
	if len(key) != 36 || sent[1].Header.Get("Idempotency-Key") != key || sent[2].Header.Get("Idempotency-Key") != key {
		t.Fatalf("keys %q %q %q", key, sent[1].Header.Get("Idempotency-Key"), sent[2].Header.Get("Idempotency-Key"))
	}
	if len(sleeps) != 2 || sleeps[0] != 125*time.Millisecond || sleeps[1] != 250*time.Millisecond {
		t.Fatalf("sleeps %v", sleeps)
	}
}

func TestTypedErrorAndNoRetryOfA400(t *testing.T) {
	s := newStub(t)
	var sleeps []time.Duration
	s.on("POST /api/v1/requests", answer{400, map[string]string{"X-Request-Id": "rid"},
		`{"error_code":"INVALID_REQUEST","field":"claim_type","detail":"claim_type: unknown"}`})
	_, err := testClient(t, s, &sleeps).CreateRequest(context.Background(), CreateRequestParams{ClaimType: "nope"})
	var pe *Error
	if !errors.As(err, &pe) || pe.Status != 400 || pe.Field != "claim_type" || pe.RequestID != "rid" {
		t.Fatalf("%#v", err)
	}
	if len(s.sent("/api/v1/requests")) != 1 || s.bodies[0] != `{"claim_type":"nope"}` {
		t.Fatalf("%d sent, body %q", len(s.sent("/api/v1/requests")), s.bodies[0])
	}
}

func TestConnectionRefusedIsRetriedAndTyped(t *testing.T) {
	s := newStub(t)
	var sleeps []time.Duration
	p := DefaultRetryPolicy
	p.MaxAttempts = 2
	c := testClient(t, s, &sleeps, WithRetryPolicy(p))
	s.srv.Close()
	_, err := c.CreateRequest(context.Background(), CreateRequestParams{ClaimType: "age_over_18"})
	var pe *Error
	if !errors.As(err, &pe) || pe.Code != "NETWORK" || pe.sent || len(sleeps) != 1 {
		t.Fatalf("%v (sleeps %v)", err, sleeps)
	}
}

func TestNewClientChecks(t *testing.T) {
	if _, err := NewClient("http://x"); err == nil {
		t.Error("no credentials accepted")
	}
	if _, err := NewClient("ftp://x", WithAPIKey("k")); err == nil {
		t.Error("ftp accepted")
	}
	if _, err := NewClient("http://x", WithAPIKey("k"), WithTokenSource(NewClientCredentials("u", "i", "s"))); err == nil {
		t.Error("two credentials accepted")
	}
	c, _ := NewClient("http://x", WithAPIKey("k"))
	if _, err := c.Verify(context.Background(), []byte("{}"), WithIdempotencyKey("a b")); err == nil {
		t.Error("a key with a space accepted")
	}
}
