package proofgate

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// RetryPolicy says when and how long a call is tried again. A call is retried after a 429 or a
// 503 answer, and after a connection error when repeating it is safe (Status; Verify, whose
// Idempotency-Key makes a repeat answer the first verdict; CreateRequest only when the connection
// was refused, so nothing reached the server). The wait before retry n (from 0) is uniform in
// [0, min(MaxDelay, BaseDelay·2ⁿ)) ("full jitter") and never shorter than the answer's
// Retry-After. At most MaxAttempts tries; no retry whose wait would end more than MaxElapsed after
// the first try began, and none when Retry-After asks for more than MaxRetryAfter.
type RetryPolicy struct {
	MaxAttempts   int
	BaseDelay     time.Duration
	MaxDelay      time.Duration
	MaxRetryAfter time.Duration
	MaxElapsed    time.Duration
}

// DefaultRetryPolicy: 4 attempts, 250 ms base, 8 s cap, Retry-After up to 60 s, 2 minutes in all.
var DefaultRetryPolicy = RetryPolicy{
	MaxAttempts:   4,
	BaseDelay:     250 * time.Millisecond,
	MaxDelay:      8 * time.Second,
	MaxRetryAfter: 60 * time.Second,
	MaxElapsed:    2 * time.Minute,
}

// ParseRetryAfter reads a Retry-After value (RFC 9110 §10.2.3: delay-seconds or an HTTP-date)
// as a duration from now, never negative; ok is false when it is absent or malformed.
func ParseRetryAfter(value string, now time.Time) (time.Duration, bool) {
	value = strings.TrimSpace(value)
	if value == "" {
		return 0, false
	}
	if n, err := strconv.ParseUint(value, 10, 32); err == nil {
		return time.Duration(n) * time.Second, true
	}
	when, err := http.ParseTime(value)
	if err != nil {
		return 0, false
	}
	if d := when.Sub(now); d > 0 {
		return d, true
	}
	return 0, true
}

// backoffDelay is full jitter: rand (uniform in [0, 1)) · min(max, base·2^attempt).
func backoffDelay(attempt int, base, max time.Duration, rand float64) time.Duration {
	ceiling := float64(base) * math.Pow(2, float64(attempt))
	if ceiling > float64(max) {
		ceiling = float64(max)
	}
	return time.Duration(rand * ceiling)
}
