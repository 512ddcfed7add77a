// settings-check: the parsers that read our settings after us, as judges for the settings layer's tests
// (tests/settings/test_real_parsers.py). One JSON request per line on stdin, one JSON answer per line on stdout:
//
//	{"kind": "yaml", "value": TEXT}      the stack file as the Pulumi CLI reads it: gopkg.in/yaml.v3 into an untyped
//	                                     value; the answer's "value" is the tree, every scalar tagged with its type
//	{"kind": "cron", "value": SCHEDULE}  a CronJob's schedule as the API server validates it and the CronJob
//	                                     controller runs it (robfig/cron/v3's standard parser; "fires": whether it
//	                                     has a next time from 2026-01-01, which the controller searches 5 years for)
//	{"kind": "nodeName", "value": NAME}  a Node's name (apimachinery's IsDNS1123Subdomain, as the API server checks
//	                                     it) and a DNS label (IsDNS1123Label, a host name's one label)
//
// Answers: {"ok": bool, "errors": [...], ...}. A test tool of ours, built by scripts/engine-tools.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"gopkg.in/yaml.v3"
	"k8s.io/apimachinery/pkg/util/validation"
)

type request struct {
	Kind  string `json:"kind"`
	Value string `json:"value"`
}

type answer struct {
	OK     bool     `json:"ok"`
	Errors []string `json:"errors,omitempty"`
	Value  any      `json:"value,omitempty"`
	Fires  *bool    `json:"fires,omitempty"`
	Label  *bool    `json:"label,omitempty"`
}

// tagged gives each decoded scalar its Go type, so that a test can tell 1, 1.0, "1" and true apart; floats as their
// IEEE 754 bits, which JSON cannot lose.
func tagged(value any) any {
	switch v := value.(type) {
	case nil:
		return map[string]any{"null": true}
	case bool:
		return map[string]any{"bool": v}
	case int:
		return map[string]any{"int": strconv.Itoa(v)}
	case int64:
		return map[string]any{"int": strconv.FormatInt(v, 10)}
	case uint64:
		return map[string]any{"int": strconv.FormatUint(v, 10)}
	case float64:
		return map[string]any{"float": strconv.FormatUint(math.Float64bits(v), 10)}
	case string:
		return map[string]any{"str": v}
	case []any:
		items := make([]any, len(v))
		for i, item := range v {
			items[i] = tagged(item)
		}
		return map[string]any{"seq": items}
	case map[string]any:
		keys := make([]string, 0, len(v))
		for key := range v {
			keys = append(keys, key)
		}
		sort.Strings(keys)
		pairs := make([]any, 0, len(v))
		for _, key := range keys {
			pairs = append(pairs, []any{key, tagged(v[key])})
		}
		return map[string]any{"map": pairs}
	case map[any]any:
		// A mapping with a key that is not a string: the Pulumi CLI cannot hand it to a program.
		return map[string]any{"nonStringKeys": true}
	default:
		return map[string]any{"other": fmt.Sprintf("%T", v)}
	}
}

func readYAML(text string) answer {
	var value any
	if err := yaml.Unmarshal([]byte(text), &value); err != nil {
		return answer{OK: false, Errors: []string{err.Error()}}
	}
	return answer{OK: true, Value: tagged(value)}
}

// The API server's rule beside the parser (pkg/apis/batch/validation, validateScheduleFormat): no time zone in the
// schedule of a new CronJob ("TZ" anywhere in it); the spec's timeZone field says it instead.
func readCron(schedule string) (a answer) {
	// robfig/cron v3.0.1 panics on a TZ= prefix with no space after it (a slice out of range); the API server's
	// handler would recover and refuse the request.
	defer func() {
		if recovered := recover(); recovered != nil {
			a = answer{OK: false, Errors: []string{fmt.Sprintf("the parser panicked: %v", recovered)}}
		}
	}()
	var errors []string
	parsed, err := cron.ParseStandard(schedule)
	if err != nil {
		errors = append(errors, err.Error())
	}
	if strings.Contains(schedule, "TZ") {
		errors = append(errors, "cannot use TZ or CRON_TZ in schedule, use timeZone field instead")
	}
	if len(errors) > 0 {
		return answer{OK: false, Errors: errors}
	}
	fires := !parsed.Next(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)).IsZero()
	return answer{OK: true, Fires: &fires}
}

func readNodeName(name string) answer {
	subdomain := validation.IsDNS1123Subdomain(name)
	label := len(validation.IsDNS1123Label(name)) == 0
	return answer{OK: len(subdomain) == 0, Errors: subdomain, Label: &label}
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 16<<20)
	out := json.NewEncoder(os.Stdout)
	for in.Scan() {
		var r request
		var a answer
		if err := json.Unmarshal(in.Bytes(), &r); err != nil {
			a = answer{Errors: []string{"bad request: " + err.Error()}}
		} else {
			switch r.Kind {
			case "yaml":
				a = readYAML(r.Value)
			case "cron":
				a = readCron(r.Value)
			case "nodeName":
				a = readNodeName(r.Value)
			default:
				a = answer{Errors: []string{"unknown kind " + r.Kind}}
			}
		}
		if err := out.Encode(a); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	if err := in.Err(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
