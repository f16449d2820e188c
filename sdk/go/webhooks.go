package proofgate

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// DefaultWebhookTolerance is how far a webhook-timestamp may be from the receiver's clock.
const DefaultWebhookTolerance = 5 * time.Minute

// ErrWebhookVerification is wrapped by every refusal of Webhook.Verify and VerifySHA256: the
// delivery is not proven to come from proofgate (answer 400).
var ErrWebhookVerification = errors.New("proofgate: webhook verification failed")

// Webhook verifies the deliveries signed with a partner's webhook secret ("whsec_" + base64).
//
// proofgate signs every delivery twice (docs/webhooks.md): Standard Webhooks (webhook-id,
// webhook-timestamp, webhook-signature: space-separated "v1,<base64 HMAC-SHA256(key,
// id.timestamp.body)>", one per live secret) and X-Proofgate-Signature (comma-separated
// "sha256=<hex HMAC-SHA256(key, body)>"). Verify checks the first, which covers the timestamp;
// prefer it. Both compare in constant time against every entry, over the raw body bytes.
type Webhook struct {
	keys      [][]byte
	Tolerance time.Duration
	now       func() time.Time
}

// NewWebhook takes one secret, or several during a rotation's overlap (any may match).
func NewWebhook(secrets ...string) (*Webhook, error) {
	if len(secrets) == 0 {
		return nil, errors.New("proofgate: no webhook secret given")
	}
	w := &Webhook{Tolerance: DefaultWebhookTolerance, now: time.Now}
	for _, s := range secrets {
		if !strings.HasPrefix(s, "whsec_") {
			return nil, errors.New("proofgate: a webhook secret starts with \"whsec_\"")
		}
		key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, "whsec_"))
		if err != nil {
			return nil, errors.New("proofgate: the webhook secret's base64 is malformed")
		}
		if len(key) < 24 {
			return nil, errors.New("proofgate: the webhook secret is too short")
		}
		w.keys = append(w.keys, key)
	}
	return w, nil
}

// Event is a webhook's payload: event, proof_id, claim_type, status, ts, ... (docs/webhooks.md).
type Event map[string]any

// Type is the event's "event" member ("proof.verified", ...).
func (e Event) Type() string { s, _ := e["event"].(string); return s }

func refuse(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrWebhookVerification, fmt.Sprintf(format, args...))
}

// Verify checks the Standard Webhooks signature of one delivery and its timestamp (within
// Tolerance of the clock) and returns its payload.
func (w *Webhook) Verify(body []byte, h http.Header) (Event, error) {
	return w.VerifyAt(body, h, w.now())
}

// VerifyAt is Verify with the receiver's clock reading given.
func (w *Webhook) VerifyAt(body []byte, h http.Header, now time.Time) (Event, error) {
	id, ts, sig := h.Get("webhook-id"), strings.TrimSpace(h.Get("webhook-timestamp")), h.Get("webhook-signature")
	if id == "" || ts == "" || sig == "" {
		return nil, refuse("missing webhook-id, webhook-timestamp or webhook-signature header")
	}
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || secs < 0 || len(ts) > 12 {
		return nil, refuse("webhook-timestamp is not Unix seconds")
	}
	skew := now.Sub(time.Unix(secs, 0))
	if skew < 0 {
		skew = -skew
	}
	if skew > w.Tolerance {
		return nil, refuse("webhook-timestamp is more than %s from this clock", w.Tolerance)
	}
	content := make([]byte, 0, len(id)+len(ts)+len(body)+2)
	content = append(append(append(append(append(content, id...), '.'), ts...), '.'), body...)
	expected := make([][]byte, len(w.keys))
	for i, k := range w.keys {
		m := hmac.New(sha256.New, k)
		m.Write(content)
		expected[i] = []byte(base64.StdEncoding.EncodeToString(m.Sum(nil)))
	}
	matched := 0
	for _, entry := range strings.Split(sig, " ") {
		version, value, ok := strings.Cut(entry, ",")
		if !ok || version != "v1" {
			continue
		}
		for _, e := range expected {
			// Every comparison runs: the time taken does not say which entry matched.
			matched |= subtle.ConstantTimeCompare(e, []byte(value))
		}
	}
	if matched != 1 {
		return nil, refuse("no webhook-signature entry matches")
	}
	return decodeEvent(body)
}

// VerifySHA256 checks the body-only X-Proofgate-Signature header (no timestamp: prefer Verify).
func (w *Webhook) VerifySHA256(body []byte, h http.Header) (Event, error) {
	header := h.Get("X-Proofgate-Signature")
	if header == "" {
		return nil, refuse("missing X-Proofgate-Signature header")
	}
	matched := 0
	for _, entry := range strings.Split(header, ",") {
		candidate := []byte(strings.ToLower(strings.TrimSpace(entry)))
		for _, k := range w.keys {
			m := hmac.New(sha256.New, k)
			m.Write(body)
			matched |= subtle.ConstantTimeCompare([]byte("sha256="+hex.EncodeToString(m.Sum(nil))), candidate)
		}
	}
	if matched != 1 {
		return nil, refuse("no X-Proofgate-Signature entry matches")
	}
	return decodeEvent(body)
}

func decodeEvent(body []byte) (Event, error) {
	var e Event
	if err := json.Unmarshal(body, &e); err != nil || e == nil {
		return nil, refuse("the signed body is not a JSON object")
	}
	return e, nil
}
