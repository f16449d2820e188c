package proofgate

// The SDK's view of the API checked against docs/openapi.json (what GET /openapi.json serves): the
// routes and methods it calls, the Idempotency-Key header of verify, every JSON member of its
// request and answer types, and the problem members its errors read. A change to the contract
// that breaks this SDK fails here.

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestTypesMatchOpenAPI(t *testing.T) {
	raw, err := os.ReadFile("../../docs/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Schemas map[string]struct {
				Properties map[string]json.RawMessage `json:"properties"`
			} `json:"schemas"`
			Parameters map[string]struct {
				Name string `json:"name"`
				In   string `json:"in"`
			} `json:"parameters"`
		} `json:"components"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	for path, method := range map[string]string{
		"/api/v1/requests": "post", "/api/v1/verify": "post", "/api/v1/status/{proof_id}": "get",
	} {
		if _, ok := doc.Paths[path][method]; !ok {
			t.Errorf("%s %s is not in the API", strings.ToUpper(method), path)
		}
	}
	var verify struct {
		Parameters []struct {
			Ref string `json:"$ref"`
		} `json:"parameters"`
	}
	json.Unmarshal(doc.Paths["/api/v1/verify"]["post"], &verify)
	idempotency := false
	for _, p := range verify.Parameters {
		param := doc.Components.Parameters[strings.TrimPrefix(p.Ref, "#/components/parameters/")]
		idempotency = idempotency || (param.Name == "Idempotency-Key" && param.In == "header")
	}
	if !idempotency {
		t.Error("verify takes no Idempotency-Key header")
	}
	for schema, typ := range map[string]reflect.Type{
		"CreateRequestBody": reflect.TypeOf(CreateRequestParams{}),
		"ProofRequest":      reflect.TypeOf(ProofRequest{}),
		"Verified":          reflect.TypeOf(VerifyResult{}),
		"ProofStatus":       reflect.TypeOf(ProofStatus{}),
	} {
		props := doc.Components.Schemas[schema].Properties
		if props == nil {
			t.Errorf("schema %s is gone", schema)
			continue
		}
		for i := 0; i < typ.NumField(); i++ {
			name := strings.Split(typ.Field(i).Tag.Get("json"), ",")[0]
			if name == "" || name == "-" {
				continue
			}
			if _, ok := props[name]; !ok {
				t.Errorf("%s.%s (%q) is not a member of schema %s", typ.Name(), typ.Field(i).Name, name, schema)
			}
		}
	}
	for _, member := range []string{"status", "error_code", "detail", "field"} {
		if _, ok := doc.Components.Schemas["Problem"].Properties[member]; !ok {
			t.Errorf("the Problem schema lacks %q", member)
		}
	}
}
