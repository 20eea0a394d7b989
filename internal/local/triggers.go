package local

import (
	"fmt"
	"sort"

	"github.com/qunyun/qunyun/internal/local/eventbus"
	"github.com/qunyun/qunyun/internal/local/gateway"
	"github.com/qunyun/qunyun/internal/sam"
)

// triggers reads the functions' events: EventBridge rules, ScheduleV2
// schedules and HttpApi routes.
func triggers(tpl *sam.Template, e Endpoints) ([]eventbus.Rule, []eventbus.Schedule, []gateway.Route, error) {
	var rules []eventbus.Rule
	var schedules []eventbus.Schedule
	var routes []gateway.Route
	resolve := refs(tpl, e)
	for _, fn := range tpl.Functions {
		for _, ev := range fn.Events {
			switch ev.Type {
			case "HttpApi":
				method := ev.Method
				if method == "" {
					method = "ANY"
				}
				routes = append(routes, gateway.Route{Method: method, Path: ev.Path, Function: fn.LogicalID})
			case "ScheduleV2":
				schedules = append(schedules, eventbus.Schedule{
					Name: fn.LogicalID + "-" + ev.Name, Function: fn.LogicalID,
					Expression: ev.ScheduleExpression, Timezone: ev.Timezone, Input: ev.Input,
				})
			case "EventBridgeRule":
				bus, err := ev.EventBusName.Resolve(resolve)
				if err != nil {
					return nil, nil, nil, fmt.Errorf("function %s event %s: EventBusName: %w", fn.LogicalID, ev.Name, err)
				}
				rules = append(rules, eventbus.Rule{Function: fn.LogicalID, EventBusName: bus, Pattern: ev.Pattern})
			}
		}
	}
	return rules, schedules, routes, nil
}

// FunctionNames lists the template's functions, sorted.
func FunctionNames(tpl *sam.Template) []string {
	var out []string
	for _, f := range tpl.Functions {
		out = append(out, f.LogicalID)
	}
	sort.Strings(out)
	return out
}
