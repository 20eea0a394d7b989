package sam_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/qunyun/qunyun/internal/wechatapi"
)

var fixedEgress = map[string]string{"FixedEgress": "true"}

// Fixed egress (issue #18 item 1): without the parameter the stack has no
// network resource at all; with it, the functions that link the WeChat API
// client (and only they) run in two private subnets routed through one NAT
// gateway holding one Elastic IP, which they are told (EGRESS_IP) and the
// stack outputs. The alarm on the refusal metric names the same address.
func TestFixedEgress(t *testing.T) {
	scan, err := scanSource("../..")
	if err != nil {
		t.Fatal(err)
	}
	var callers []string // the functions that call WeChat's APIs
	for _, fn := range []string{"CallbackFunction", "PushFunction", "ScoringFunction", "SessionFunction"} {
		if scan.linked(functionDir(fn))["internal/wechatapi"] {
			callers = append(callers, fn)
		}
	}
	if len(callers) == 0 {
		t.Fatal("no function links internal/wechatapi; the scan is broken")
	}
	eip := `{"Ref":"EgressAddress"}`
	sourcesWith(t, fixedEgress, func(t *testing.T, doc cfnDoc) {
		t.Run("off", func(t *testing.T) {
			st := deploy(t, doc, nil)
			for id, r := range st.Resources {
				if strings.HasPrefix(r.Type, "AWS::EC2::") {
					t.Errorf("%s (%s) without FixedEgress", id, r.Type)
				}
				if at(r.Properties, "VpcConfig") != nil {
					t.Errorf("%s in a VPC without FixedEgress", id)
				}
			}
			if _, ok := st.Outputs["EgressIp"]; ok {
				t.Error("output EgressIp without FixedEgress")
			}
			for _, fn := range callers {
				if got := at(st.Resources[fn].Properties, "Environment", "Variables", "EGRESS_IP"); got != "" {
					t.Errorf("%s: EGRESS_IP = %s, want empty", fn, jsonString(got))
				}
			}
		})
		t.Run("on", func(t *testing.T) {
			st := deploy(t, doc, fixedEgress)
			if len(st.ofType("AWS::EC2::VPC")) != 1 || len(st.ofType("AWS::EC2::NatGateway")) != 1 || len(st.ofType("AWS::EC2::EIP")) != 1 {
				t.Fatalf("want one VPC, NAT gateway and Elastic IP: %v %v %v", st.ofType("AWS::EC2::VPC"), st.ofType("AWS::EC2::NatGateway"), st.ofType("AWS::EC2::EIP"))
			}
			nat := st.Resources["EgressNatGateway"].Properties
			if jsonString(nat["AllocationId"]) != `{"Fn::GetAtt":["EgressAddress","AllocationId"]}` {
				t.Errorf("NAT gateway holds %s, not the Elastic IP", jsonString(nat["AllocationId"]))
			}
			natSubnet := jsonString(nat["SubnetId"])
			// A route table → its default route's target, and the subnets using it.
			defaultRoute, subnetsOf := map[string]string{}, map[string][]string{}
			for _, id := range st.ofType("AWS::EC2::Route") {
				p := st.Resources[id].Properties
				if p["DestinationCidrBlock"] == "0.0.0.0/0" {
					target := jsonString(p["NatGatewayId"]) + jsonString(p["GatewayId"])
					defaultRoute[jsonString(p["RouteTableId"])] = strings.ReplaceAll(target, "null", "")
				}
			}
			for _, id := range st.ofType("AWS::EC2::SubnetRouteTableAssociation") {
				p := st.Resources[id].Properties
				subnetsOf[jsonString(p["RouteTableId"])] = append(subnetsOf[jsonString(p["RouteTableId"])], jsonString(p["SubnetId"]))
			}
			routeOf := func(subnet string) string {
				for rt, subnets := range subnetsOf {
					if slices.Contains(subnets, subnet) {
						return defaultRoute[rt]
					}
				}
				return ""
			}
			if routeOf(natSubnet) != `{"Ref":"EgressInternetGateway"}` {
				t.Errorf("the NAT gateway's subnet routes to %q, want the internet gateway", routeOf(natSubnet))
			}
			for _, fn := range []string{"CallbackFunction", "PushFunction", "ScoringFunction", "SessionFunction"} {
				vpc := at(st.Resources[fn].Properties, "VpcConfig")
				if !slices.Contains(callers, fn) {
					if vpc != nil {
						t.Errorf("%s does not call WeChat's APIs but is in the VPC", fn)
					}
					continue
				}
				subnets := asList(at(vpc, "SubnetIds"))
				zones := map[string]bool{}
				for _, sn := range subnets {
					if r := routeOf(jsonString(sn)); r != `{"Ref":"EgressNatGateway"}` {
						t.Errorf("%s: subnet %s routes to %q, want the NAT gateway", fn, jsonString(sn), r)
					}
					if id, ok := asMap(sn)["Ref"].(string); ok {
						zones[jsonString(st.Resources[id].Properties["AvailabilityZone"])] = true
					}
				}
				if len(subnets) != 2 || len(zones) != 2 || len(asList(at(vpc, "SecurityGroupIds"))) != 1 {
					t.Errorf("%s: VpcConfig %s, want two subnets in two zones and a security group", fn, jsonString(vpc))
				}
				if got := jsonString(at(st.Resources[fn].Properties, "Environment", "Variables", "EGRESS_IP")); got != eip {
					t.Errorf("%s: EGRESS_IP = %s, want %s", fn, got, eip)
				}
			}
			if got := jsonString(st.Outputs["EgressIp"]); got != eip {
				t.Errorf("output EgressIp = %s, want %s", got, eip)
			}
			endpoints := st.ofType("AWS::EC2::VPCEndpoint")
			if len(endpoints) != 1 || !strings.HasSuffix(jsonString(st.Resources[endpoints[0]].Properties["ServiceName"]), `.dynamodb"}`) {
				t.Errorf("endpoints %v: want the table's gateway endpoint, which keeps its traffic off the NAT", endpoints)
			}
		})
		t.Run("alarm", func(t *testing.T) {
			for _, params := range []map[string]string{nil, fixedEgress} {
				st := deploy(t, doc, params)
				found := false
				for _, id := range st.ofType("AWS::CloudWatch::Alarm") {
					p := st.Resources[id].Properties
					if p["MetricName"] != wechatapi.MetricIPRejected {
						continue
					}
					found = true
					if p["Namespace"] != "Qunyun" || jsonString(p["Dimensions"]) != `[{"Name":"Stage","Value":"dev"}]` || jsonString(p["AlarmActions"]) != `[{"Ref":"AlarmTopic"}]` {
						t.Errorf("alarm %s: %s", id, jsonString(p))
					}
					desc := jsonString(p["AlarmDescription"])
					if params != nil && !strings.Contains(desc, "${EgressAddress}") || params == nil && !strings.Contains(desc, "FixedEgress=true") {
						t.Errorf("alarm %s says %s", id, desc)
					}
				}
				if !found {
					t.Errorf("no alarm on %s", wechatapi.MetricIPRejected)
				}
			}
		})
	})
}
