package local

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/qunyun/qunyun/internal/sam"
)

// Endpoints is what a running stack offers; `qunyun invoke` and the demo
// loader read it from .local/stack.json.
type Endpoints struct {
	Gateway      string `json:"gateway"`      // http://127.0.0.1:3000
	DynamoDB     string `json:"dynamodb"`     // AWS_ENDPOINT_URL_DYNAMODB
	EventBus     string `json:"eventBus"`     // AWS_ENDPOINT_URL_EVENTBRIDGE
	SandboxOA    string `json:"sandboxOA"`    // WECHAT_API_BASE
	SandboxWeCom string `json:"sandboxWeCom"` // WECOM_API_BASE
	Accounts     string `json:"accounts"`     // QUNYUN_ACCOUNTS (absolute path)
	TableName    string `json:"tableName"`
	EventBusName string `json:"eventBusName"`
	Region       string `json:"region"`
	Stage        string `json:"stage"`
	ClockStart   string `json:"clockStart,omitempty"` // QUNYUN_CLOCK_START; "" for real time
	ClockSpeed   string `json:"clockSpeed,omitempty"` // QUNYUN_CLOCK_SPEED
	ClockFile    string `json:"clockFile,omitempty"`  // QUNYUN_CLOCK_FILE: a stepped clock
}

// AccountID is the account the local stack pretends to be.
const AccountID = "123456789012"

// refs resolves the !Ref / !Sub / !GetAtt names template.yaml uses to their
// local values.
func refs(tpl *sam.Template, e Endpoints) func(string) (string, bool) {
	return func(name string) (string, bool) {
		switch name {
		case "Stage":
			return e.Stage, true
		case "AWS::Region":
			return e.Region, true
		case "AWS::AccountId":
			return AccountID, true
		case "AWS::URLSuffix":
			return "amazonaws.com", true
		case "AWS::Partition":
			return "aws", true
		case "AWS::StackName":
			return "qunyun-" + e.Stage, true
		case "ServerlessHttpApi":
			return "local", true
		}
		if p, ok := tpl.Parameters[name]; ok {
			return p.Default, true
		}
		for _, t := range tpl.Tables {
			if name == t.LogicalID {
				return e.TableName, true
			}
		}
		for _, b := range tpl.Buses {
			if name == b {
				return e.EventBusName, true
			}
			if name == b+".Arn" {
				return fmt.Sprintf("arn:aws:events:%s:%s:event-bus/%s", e.Region, AccountID, e.EventBusName), true
			}
		}
		for _, f := range tpl.Functions {
			if name == f.LogicalID {
				return f.LogicalID, true
			}
		}
		if id, attr, ok := strings.Cut(name, "."); ok && attr == "Arn" {
			return fmt.Sprintf("arn:aws:local:%s:%s:%s", e.Region, AccountID, id), true
		}
		return "", false
	}
}

// FunctionEnv is the complete environment of fn's process on the local
// stack: the template's variables (Globals merged) resolved with local
// values, the local overrides of the variables the template declares, and
// the variables Lambda itself sets. Sorted, KEY=VALUE.
func FunctionEnv(tpl *sam.Template, fn sam.Function, e Endpoints) ([]string, error) {
	resolve := refs(tpl, e)
	vars := map[string]string{}
	for k, v := range fn.Environment {
		s, err := v.Resolve(resolve)
		if err != nil {
			return nil, fmt.Errorf("function %s: variable %s: %w", fn.LogicalID, k, err)
		}
		vars[k] = s
	}
	// Like `sam local invoke --env-vars`, only declared variables are
	// overridden: a function sees nothing the template does not give it.
	overrides := map[string]string{
		"PUBLIC_BASE_URL":    e.Gateway,
		"WECHAT_API_BASE":    e.SandboxOA,
		"WECOM_API_BASE":     e.SandboxWeCom,
		"QUNYUN_ACCOUNTS":    e.Accounts,
		"QUNYUN_CLOCK_START": e.ClockStart,
		"QUNYUN_CLOCK_SPEED": e.ClockSpeed,
		"QUNYUN_CLOCK_FILE":  e.ClockFile,
	}
	for k, v := range overrides {
		if _, declared := vars[k]; declared {
			vars[k] = v
		}
	}
	lambda := map[string]string{
		"AWS_ENDPOINT_URL_DYNAMODB":       e.DynamoDB,
		"AWS_ENDPOINT_URL_EVENTBRIDGE":    e.EventBus,
		"AWS_REGION":                      e.Region,
		"AWS_DEFAULT_REGION":              e.Region,
		"AWS_ACCESS_KEY_ID":               "local",
		"AWS_SECRET_ACCESS_KEY":           "local",
		"AWS_EC2_METADATA_DISABLED":       "true",
		"AWS_LAMBDA_FUNCTION_NAME":        fn.LogicalID,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": strconv.Itoa(fn.MemorySize),
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_LOG_FORMAT":           "JSON",
		"AWS_LAMBDA_LOG_LEVEL":            "INFO",
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/" + fn.LogicalID,
		"_HANDLER":                        fn.Handler,
		"TZ":                              ":UTC",
		"LANG":                            "en_US.UTF-8",
		"PATH":                            "/usr/local/bin:/usr/bin:/bin",
	}
	for k, v := range lambda {
		vars[k] = v
	}
	out := make([]string, 0, len(vars))
	for k, v := range vars {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out, nil
}

// FunctionPackage is the Go package of a function, by the Makefile's
// convention: CallbackFunction → ./functions/callback.
func FunctionPackage(logicalID string) string {
	return "./functions/" + strings.ToLower(strings.TrimSuffix(logicalID, "Function"))
}
