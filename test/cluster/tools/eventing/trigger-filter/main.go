// Command trigger-filter evaluates Knative Trigger filters with Knative Eventing's own code, for
// the tests that check which Trigger an event reaches without running a Broker: the same
// functions the MT broker's filter handler calls (pkg/broker/filter/filter_handler.go
// filterEvent: spec.filters through pkg/eventfilter/subscriptionsapi, else spec.filter through
// pkg/eventfilter/attributes, else no filter), and the admission webhook's validation of the
// Trigger (pkg/apis/eventing/v1 Trigger.Validate).
//
// Protocol: one JSON request per stdin line, one JSON answer per stdout line, so one process
// serves many requests.
//
//	request: {"triggers": [<Trigger object>...], "events": [{"<attribute>": "<value>"...}...]}
//	answer:  {"matches": [["<trigger name>"...] per event], "invalid": {"<trigger name>": "<webhook error>"}}
//
// An event matches a Trigger unless the filter's result is FailFilter (a NoFilter result passes,
// as in the broker). Attributes named like CloudEvents context attributes set those; every other
// attribute is an extension.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"go.uber.org/zap"
	eventingv1 "knative.dev/eventing/pkg/apis/eventing/v1"
	"knative.dev/eventing/pkg/eventfilter"
	"knative.dev/eventing/pkg/eventfilter/attributes"
	"knative.dev/eventing/pkg/eventfilter/subscriptionsapi"
)

type request struct {
	Triggers []eventingv1.Trigger `json:"triggers"`
	Events   []map[string]string  `json:"events"`
}

type answer struct {
	Matches [][]string        `json:"matches"`
	Invalid map[string]string `json:"invalid"`
	Error   string            `json:"error,omitempty"`
}

func toEvent(attrs map[string]string) (cloudevents.Event, error) {
	event := cloudevents.NewEvent(cloudevents.VersionV1)
	for name, value := range attrs {
		var err error
		switch name {
		case "specversion":
			event.SetSpecVersion(value)
		case "id":
			event.SetID(value)
		case "source":
			event.SetSource(value)
		case "type":
			event.SetType(value)
		case "subject":
			event.SetSubject(value)
		case "datacontenttype":
			event.SetDataContentType(value)
		case "dataschema":
			event.SetDataSchema(value)
		case "time":
			var t cloudevents.Timestamp
			if err = t.UnmarshalJSON([]byte(`"` + value + `"`)); err == nil {
				event.SetTime(t.Time)
			}
		default:
			event.SetExtension(name, value)
		}
		if err != nil {
			return event, fmt.Errorf("attribute %s: %w", name, err)
		}
	}
	return event, nil
}

// filter is filter_handler.go's filterEvent, without its cache of materialized filters.
func filter(ctx context.Context, logger *zap.Logger, trigger *eventingv1.Trigger, event cloudevents.Event) eventfilter.FilterResult {
	switch {
	case len(trigger.Spec.Filters) > 0:
		return subscriptionsapi.CreateSubscriptionsAPIFilters(logger, trigger.Spec.Filters).Filter(ctx, event)
	case trigger.Spec.Filter != nil:
		return attributes.NewAttributesFilter(trigger.Spec.Filter.Attributes).Filter(ctx, event)
	default:
		return eventfilter.NoFilter
	}
}

func serve(ctx context.Context, logger *zap.Logger, line []byte) answer {
	var req request
	if err := json.Unmarshal(line, &req); err != nil {
		return answer{Error: err.Error()}
	}
	out := answer{Matches: make([][]string, len(req.Events)), Invalid: map[string]string{}}
	// The webhook's view with the default features (spec.filters is GA in v0.49: no flag).
	for i := range req.Triggers {
		if err := req.Triggers[i].Validate(ctx); err != nil {
			out.Invalid[req.Triggers[i].Name] = err.Error()
		}
	}
	for i, attrs := range req.Events {
		event, err := toEvent(attrs)
		if err != nil {
			return answer{Error: err.Error()}
		}
		out.Matches[i] = []string{}
		for t := range req.Triggers {
			if filter(ctx, logger, &req.Triggers[t], event) != eventfilter.FailFilter {
				out.Matches[i] = append(out.Matches[i], req.Triggers[t].Name)
			}
		}
	}
	return out
}

func main() {
	logger := zap.NewNop()
	ctx := context.Background()
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 0, 1<<20), 64<<20)
	out := json.NewEncoder(os.Stdout)
	for in.Scan() {
		if err := out.Encode(serve(ctx, logger, in.Bytes())); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	if err := in.Err(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
