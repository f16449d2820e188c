package proofgate_test

// The Go SDK against a real `proofgate serve --demo` (tests/sdk/harness.mjs starts it): a request
// created and a wallet-made proof verified through the SDK, its status read, the webhook the
// server's worker delivers verified (a tampered copy refused), a typed error for a bad request,
// and a 429 from the partner rate limit retried after its Retry-After. Needs PROOFGATE_BIN (with
// PROOFGATE_ARTIFACTS, node and the repository's node_modules); `go test -short` skips it.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	proofgate "proofgate.dev/sdk"
)

type delivery struct {
	header http.Header
	body   []byte
}

type harnessEnv struct {
	BaseURL       string `json:"base_url"`
	DemoAPIKey    string `json:"demo_api_key"`
	APIKey        string `json:"api_key"`
	ClientID      string `json:"client_id"`
	ClientSecret  string `json:"client_secret"`
	WebhookSecret string `json:"webhook_secret"`
	RateBurst     int    `json:"rate_burst"`
}

type harness struct {
	env   harnessEnv
	stdin io.WriteCloser
	out   *bufio.Reader
	cmd   *exec.Cmd
}

func startHarness(t *testing.T, webhookURL string) *harness {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", filepath.Join(root, "tests", "sdk", "harness.mjs"), "--webhook-url", webhookURL)
	cmd.Dir = root
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	h := &harness{stdin: stdin, out: bufio.NewReader(stdout), cmd: cmd}
	t.Cleanup(func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
		}
	})
	line, err := h.out.ReadBytes('\n')
	if err != nil {
		t.Fatalf("the harness ended before serving: %v", err)
	}
	if err := json.Unmarshal(line, &h.env); err != nil {
		t.Fatalf("harness: %v: %s", err, line)
	}
	return h
}

// prove asks the harness for the wallet's answer to request (its raw JSON).
func (h *harness) prove(t *testing.T, request json.RawMessage) json.RawMessage {
	msg, _ := json.Marshal(map[string]any{"op": "prove", "request": request})
	if _, err := h.stdin.Write(append(msg, '\n')); err != nil {
		t.Fatal(err)
	}
	line, err := h.out.ReadBytes('\n')
	if err != nil {
		t.Fatal(err)
	}
	var answer struct {
		Body  json.RawMessage `json:"body"`
		Error string          `json:"error"`
	}
	if err := json.Unmarshal(line, &answer); err != nil || answer.Error != "" {
		t.Fatalf("prove: %v %s", err, answer.Error)
	}
	return answer.Body
}

func TestAgainstTheServer(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the unit tests only")
	}
	if os.Getenv("PROOFGATE_BIN") == "" {
		t.Fatal("PROOFGATE_BIN is not set (run with -short for the unit tests alone)")
	}
	deliveries := make(chan delivery, 64)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		deliveries <- delivery{r.Header.Clone(), body}
		w.WriteHeader(http.StatusOK)
	}))
	defer receiver.Close()
	h := startHarness(t, receiver.URL+"/hook")
	ctx := context.Background()
	client, err := proofgate.NewClient(h.env.BaseURL, proofgate.WithAPIKey(h.env.APIKey))
	if err != nil {
		t.Fatal(err)
	}

	t.Run("request, verify, status and the signed webhook", func(t *testing.T) {
		request, err := client.CreateRequest(ctx, proofgate.CreateRequestParams{ClaimType: "age_over_18", TTLSeconds: 600})
		if err != nil {
			t.Fatal(err)
		}
		if request.ClaimType != "age_over_18" || request.VerifierDomain != "sdk.example" ||
			!strings.HasPrefix(request.QR.URI, "proofgate:request?d=") || !strings.Contains(request.QR.SVG, "<svg") {
			t.Fatalf("request %+v", request)
		}
		body := h.prove(t, request.Raw)
		key := proofgate.WithIdempotencyKey("sdk-go-" + request.RequestID)
		verified, err := client.Verify(ctx, body, key)
		if err != nil {
			t.Fatal(err)
		}
		if verified.Status != "verified" || verified.ClaimType != "age_over_18" || verified.Replayed {
			t.Fatalf("verify %+v", verified)
		}
		// The same key answers the stored verdict, not NONCE_REPLAY: what a retry relies on.
		again, err := client.Verify(ctx, body, key)
		if err != nil || again.ProofID != verified.ProofID || !again.Replayed {
			t.Fatalf("replay %+v %v", again, err)
		}
		// Without the key it is a second answer to a spent nonce.
		_, err = client.Verify(ctx, body)
		var pe *proofgate.Error
		if !errors.As(err, &pe) || pe.Status != 409 || pe.Code != "NONCE_REPLAY" {
			t.Fatalf("a spent nonce: %v", err)
		}

		status, err := client.Status(ctx, verified.ProofID)
		if err != nil || status.ProofID != verified.ProofID || status.Status != "verified" {
			t.Fatalf("status %+v %v", status, err)
		}

		var d delivery
		deadline := time.After(60 * time.Second)
		for d.body == nil {
			select {
			case got := <-deliveries:
				if bytes.Contains(got.body, []byte(`"proof.verified"`)) {
					d = got
				}
			case <-deadline:
				t.Fatal("no proof.verified delivery within 60 s")
			}
		}
		hook, err := proofgate.NewWebhook(h.env.WebhookSecret)
		if err != nil {
			t.Fatal(err)
		}
		event, err := hook.Verify(d.body, d.header)
		if err != nil || event.Type() != "proof.verified" || event["proof_id"] != verified.ProofID {
			t.Fatalf("event %v %v", event, err)
		}
		if e, err := hook.VerifySHA256(d.body, d.header); err != nil || e["proof_id"] != verified.ProofID {
			t.Fatalf("sha256: %v %v", e, err)
		}
		tampered := bytes.Replace(d.body, []byte(`"verified"`), []byte(`"failed"`), 1)
		if bytes.Equal(tampered, d.body) {
			t.Fatal("nothing to tamper with")
		}
		if _, err := hook.Verify(tampered, d.header); !errors.Is(err, proofgate.ErrWebhookVerification) {
			t.Fatalf("a tampered body: %v", err)
		}
		if _, err := hook.VerifySHA256(tampered, d.header); !errors.Is(err, proofgate.ErrWebhookVerification) {
			t.Fatalf("a tampered body (sha256): %v", err)
		}
		forged := d.header.Clone()
		forged.Set("webhook-signature", "v1,"+strings.Repeat("A", 43)+"=")
		if _, err := hook.Verify(d.body, forged); err == nil {
			t.Fatal("a forged signature accepted")
		}
		ts, _ := strconv.ParseInt(d.header.Get("webhook-timestamp"), 10, 64)
		if _, err := hook.VerifyAt(d.body, d.header, time.Unix(ts+301, 0)); err == nil {
			t.Fatal("an old delivery accepted")
		}
		other, _ := proofgate.NewWebhook("whsec_" + strings.Repeat("QUFB", 11))
		if _, err := other.Verify(d.body, d.header); err == nil {
			t.Fatal("another secret accepted")
		}
	})

	t.Run("a bad request is a typed error", func(t *testing.T) {
		_, err := client.CreateRequest(ctx, proofgate.CreateRequestParams{ClaimType: "age_over_18", TTLSeconds: 99999})
		var pe *proofgate.Error
		if !errors.As(err, &pe) || pe.Status != 400 || pe.Code != "INVALID_REQUEST" || pe.Field != "ttl_seconds" ||
			pe.Detail == "" || pe.RequestID == "" {
			t.Fatalf("%#v", err)
		}
		bad, _ := proofgate.NewClient(h.env.BaseURL, proofgate.WithAPIKey("pgk_AAAAAAAA_"+strings.Repeat("A", 43)))
		_, err = bad.Status(ctx, "x")
		if !errors.As(err, &pe) || pe.Status != 401 || pe.Code != "UNAUTHORIZED" {
			t.Fatalf("%v", err)
		}
	})

	t.Run("OAuth tokens from the real token endpoint", func(t *testing.T) {
		tokens := proofgate.NewClientCredentials(h.env.BaseURL+"/oauth/token", h.env.ClientID, h.env.ClientSecret)
		first, err := tokens.Token(ctx)
		if err != nil || strings.Count(first, ".") != 2 {
			t.Fatalf("token %q: %v", first, err)
		}
		if again, _ := tokens.Token(ctx); again != first {
			t.Fatal("the token was not cached")
		}
		withToken, err := proofgate.NewClient(h.env.BaseURL, proofgate.WithTokenSource(tokens))
		if err != nil {
			t.Fatal(err)
		}
		request, err := withToken.CreateRequest(ctx, proofgate.CreateRequestParams{ClaimType: "age_over_18"})
		if err != nil || request.VerifierDomain != "sdk.example" {
			t.Fatalf("%+v %v", request, err)
		}
		// Authenticated by the token, then not found.
		_, err = withToken.Status(ctx, "00000000-0000-4000-8000-000000000000")
		var pe *proofgate.Error
		if !errors.As(err, &pe) || pe.Status != 404 || pe.Code != "NOT_FOUND" {
			t.Fatalf("%v", err)
		}
		secret := h.env.ClientSecret
		last := "A"
		if strings.HasSuffix(secret, "A") {
			last = "B"
		}
		wrong := proofgate.NewClientCredentials(h.env.BaseURL+"/oauth/token", h.env.ClientID, secret[:len(secret)-1]+last)
		_, err = wrong.Token(ctx)
		if !errors.As(err, &pe) || pe.Status != 401 || pe.Code != "invalid_client" {
			t.Fatalf("a wrong secret: %v", err)
		}
	})

	t.Run("a 429 is retried after its Retry-After", func(t *testing.T) {
		// The demo partner's bucket emptied without retries.
		noRetry := proofgate.DefaultRetryPolicy
		noRetry.MaxAttempts = 1
		once, _ := proofgate.NewClient(h.env.BaseURL, proofgate.WithAPIKey(h.env.DemoAPIKey), proofgate.WithRetryPolicy(noRetry))
		var limited *proofgate.Error
		for i := 0; i < h.env.RateBurst*4 && limited == nil; i++ {
			if _, err := once.CreateRequest(ctx, proofgate.CreateRequestParams{ClaimType: "age_over_18"}); err != nil {
				if !errors.As(err, &limited) {
					t.Fatal(err)
				}
			}
		}
		if limited == nil || limited.Status != 429 || limited.Code != "RATE_LIMITED" || limited.RetryAfter < time.Second {
			t.Fatalf("the partner rate limit never answered 429 with Retry-After: %v", limited)
		}
		type retry struct {
			delay time.Duration
			err   *proofgate.Error
		}
		var retries []retry
		retrying, _ := proofgate.NewClient(h.env.BaseURL, proofgate.WithAPIKey(h.env.DemoAPIKey),
			proofgate.WithOnRetry(func(_ int, d time.Duration, e *proofgate.Error) { retries = append(retries, retry{d, e}) }))
		started := time.Now()
		request, err := retrying.CreateRequest(ctx, proofgate.CreateRequestParams{ClaimType: "age_over_18"})
		elapsed := time.Since(started)
		if err != nil || request.ClaimType != "age_over_18" {
			t.Fatalf("%v %v", request, err)
		}
		if len(retries) == 0 || retries[0].err.Status != 429 || retries[0].delay < retries[0].err.RetryAfter ||
			elapsed < retries[0].err.RetryAfter {
			t.Fatalf("retries %+v, elapsed %v", retries, elapsed)
		}
	})
}
