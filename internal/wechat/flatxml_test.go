package wechat_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/qunyun/qunyun/internal/wechat"
)

// flatSamples are documents of the shapes WeChat, WeCom and the simulator
// send, which the fast path must read itself.
func flatSamples(tb testing.TB) map[string]string {
	tb.Helper()
	s := map[string]string{
		"oa text":          string(oaXML(`<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[你好]]></Content><MsgId>6054768590064713728</MsgId>`)),
		"oa location":      string(oaXML(`<MsgType>location</MsgType><Location_X>23.134521</Location_X><Location_Y>113.358803</Location_Y><Scale>20</Scale><Label><![CDATA[位置信息]]></Label><MsgId>15</MsgId>`)),
		"oa mass finish":   string(oaXML(`<MsgType>event</MsgType><Event>MASSSENDJOBFINISH</Event><MsgID>1988</MsgID><Status>send success</Status><TotalCount>100</TotalCount><FilterCount>80</FilterCount><SentCount>75</SentCount><ErrorCount>5</ErrorCount>`)),
		"envelope":         `<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName><Encrypt><![CDATA[abc+/=]]></Encrypt></xml>`,
		"wecom envelope":   "<xml>\n<ToUserName><![CDATA[ww1]]></ToUserName>\n<Encrypt><![CDATA[abc]]></Encrypt>\n<AgentID><![CDATA[218]]></AgentID>\n</xml>",
		"simulator escape": `<xml><ToUserName>ww1</ToUserName><FromUserName>u</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType><Content>&#34;a&#34; &amp; &#39;b&#39;&#xA;&lt;c&gt;&#x9;</Content><MsgId>1</MsgId></xml>`,
		"add_member": `<xml><ToUserName><![CDATA[ww1]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName><CreateTime>1403610513</CreateTime>` +
			`<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[change_external_chat]]></Event><ChatId><![CDATA[wr1]]></ChatId>` +
			`<ChangeType><![CDATA[update]]></ChangeType><UpdateDetail><![CDATA[add_member]]></UpdateDetail><JoinScene>1</JoinScene>` +
			`<MemChangeCnt>2</MemChangeCnt><MemChangeList><Item><![CDATA[wmA]]></Item><Item>wmB</Item></MemChangeList>` +
			`<LastMemVer><![CDATA[9c3f]]></LastMemVer><CurMemVer><![CDATA[71217]]></CurMemVer></xml>`,
		"nested unknown": string(oaXML(`<MsgType>event</MsgType><Event>scancode_push</Event><EventKey>k</EventKey><ScanCodeInfo><ScanType>qrcode</ScanType><ScanResult>1</ScanResult></ScanCodeInfo>`)),
		"trailing bytes": string(oaXML(`<MsgType>event</MsgType><Event>subscribe</Event>`)) + "\n<<garbage",
	}
	for _, v := range loadVectors(tb) {
		if strings.HasPrefix(v.ExpectMsg, "<xml>") {
			s["vector "+v.Name] = v.ExpectMsg
		}
	}
	return s
}

// The fast path reads what WeChat sends; what it does not read goes to
// encoding/xml, and either way the result is the same.
func TestFlatXMLReadsWeChatShapes(t *testing.T) {
	for name, doc := range flatSamples(t) {
		t.Run(name, func(t *testing.T) {
			w, ok := wechat.FlatWire([]byte(doc))
			e, eok := wechat.FlatEnvelope([]byte(doc))
			if !ok || !eok {
				t.Fatalf("fast path declined: wire %v, envelope %v", ok, eok)
			}
			sameAsXML(t, []byte(doc), w, e)
		})
	}
}

func TestFlatXMLDeclinesOtherShapes(t *testing.T) {
	body := `<FromUserName>u</FromUserName><MsgType>text</MsgType><Content>x</Content><MsgId>1</MsgId>`
	for name, doc := range map[string]string{
		"declaration":     `<?xml version="1.0" encoding="UTF-8"?><xml>` + body + `</xml>`,
		"comment":         `<xml><!-- c -->` + body + `</xml>`,
		"attribute":       `<xml a="1">` + body + `</xml>`,
		"self-closing":    `<xml><Title/>` + body + `</xml>`,
		"carriage return": "<xml>\r\n" + body + "</xml>",
		"deep nesting":    `<xml>` + body + `<A><B><C>1</C></B></A></xml>`,
		"text in root":    `<xml>hello` + body + `</xml>`,
		"element in Content": `<xml><FromUserName>u</FromUserName><MsgType>text</MsgType><MsgId>1</MsgId>` +
			`<Content>a<b>x</b>c</Content></xml>`,
		"long reference": `<xml>` + body + `<Title>&#00000065;</Title></xml>`,
		"space before >": `<xml>` + body + `<Title >t</Title></xml>`,
		"namespace":      `<xml>` + body + `<a:Title>t</a:Title></xml>`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, ok := wechat.FlatWire([]byte(doc)); ok {
				t.Error("fast path read it")
			}
			// encoding/xml reads every one of these, and ParseOA with it.
			in, err := wechat.ParseOA([]byte(doc))
			if err != nil {
				t.Fatal(err)
			}
			if m, ok := in.(*wechat.OAText); !ok || m.FromUserName != "u" || m.MsgID != "1" {
				t.Errorf("ParseOA = %#v", in)
			}
		})
	}
}

// sameAsXML fails unless encoding/xml reads doc into the wire and envelope
// the fast path read. %#v compares floats by value and tells nil slices
// from empty ones; a NaN prints alike on both sides.
func sameAsXML(tb testing.TB, doc []byte, flatWire, flatEnv any) {
	tb.Helper()
	for _, c := range []struct {
		name string
		flat any
		std  func([]byte) (any, error)
	}{{"wire", flatWire, wechat.XMLWire}, {"envelope", flatEnv, wechat.XMLEnvelope}} {
		if c.flat == nil {
			continue
		}
		want, err := c.std(doc)
		if err != nil {
			tb.Fatalf("%s: the fast path read what encoding/xml refuses (%v):\n%q", c.name, err, doc)
		}
		if got, want := fmt.Sprintf("%#v", c.flat), fmt.Sprintf("%#v", want); got != want {
			tb.Fatalf("%s: the fast path read\n%s\nencoding/xml\n%s\nfrom %q", c.name, got, want, doc)
		}
		if reflect.TypeOf(c.flat) != reflect.TypeOf(want) {
			tb.Fatalf("%s: types differ", c.name)
		}
	}
}

// FuzzFlatXML is the differential check of the fast path: whatever it
// reads, encoding/xml must read too, into the same values.
func FuzzFlatXML(f *testing.F) {
	for _, doc := range flatSamples(f) {
		f.Add([]byte(doc))
	}
	f.Add([]byte(`<xml><Content>]]&gt;&#xD800;&#1114111;&#65534;</Content><CreateTime> 12 </CreateTime></xml>`))
	f.Add([]byte(`<xml><Scale></Scale><Location_X>NaN</Location_X><MemChangeList>` + "\n" + `<Item/><Other>x</Other></MemChangeList><MemChangeList><Item>b</Item></MemChangeList></xml>`))
	f.Add([]byte(`<xml><Content><![CDATA[a]]>b&amp;<![CDATA[]]></Content><Content>last</Content></xml>`))

	f.Fuzz(func(t *testing.T, data []byte) {
		var w, e any
		if got, ok := wechat.FlatWire(data); ok {
			w = got
		}
		if got, ok := wechat.FlatEnvelope(data); ok {
			e = got
		}
		sameAsXML(t, data, w, e)
	})
}
