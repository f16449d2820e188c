package proofgate

import (
	"encoding/json"
	"fmt"
	"time"
)

// Error is an answer that is not a success (read from its RFC 9457 problem body), or a call that
// got no answer (Status 0, Code "NETWORK", the cause in Err). Test for it with errors.As:
//
//	var pe *proofgate.Error
//	if errors.As(err, &pe) && pe.Code == "NONCE_REPLAY" { ... }
type Error struct {
	Status     int            // the HTTP status; 0 when no answer arrived
	Code       string         // error_code ("INVALID_REQUEST", ...); for /oauth/token the RFC 6749 error
	Field      string         // the member or header at fault, when the problem names one
	Detail     string         // the explanation
	RequestID  string         // the answer's X-Request-Id
	RetryAfter time.Duration  // the answer's Retry-After; 0 when it had none
	ProofID    string         // a rejected proof's failed attempt (BINDING_MISMATCH, STALE_ROOT, ROOT_MODE_MISMATCH, INVALID_PROOF)
	Problem    map[string]any // the whole problem body, when it was JSON
	Err        error          // the cause of a NETWORK error
	sent       bool           // NETWORK: the request may have reached the server
}

func (e *Error) Error() string {
	s := e.Code
	if e.Status != 0 {
		s = fmt.Sprintf("%s (%d)", e.Code, e.Status)
	}
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return "proofgate: " + s
}

// Unwrap gives the cause of a NETWORK error.
func (e *Error) Unwrap() error { return e.Err }

func errorFromAnswer(status int, body []byte, requestID string, retryAfter time.Duration) *Error {
	e := &Error{Status: status, Code: fmt.Sprintf("HTTP_%d", status), RequestID: requestID, RetryAfter: retryAfter}
	var problem map[string]any
	if err := json.Unmarshal(body, &problem); err != nil || problem == nil {
		if len(body) > 200 {
			body = body[:200]
		}
		e.Detail = string(body)
		return e
	}
	e.Problem = problem
	str := func(keys ...string) string {
		for _, k := range keys {
			if v, ok := problem[k].(string); ok && v != "" {
				return v
			}
		}
		return ""
	}
	if c := str("error_code", "error"); c != "" {
		e.Code = c
	}
	e.Detail = str("detail", "error_description", "title")
	e.Field = str("field")
	e.ProofID = str("proof_id")
	return e
}
