package wechat

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxNewsArticles is the most articles a passive news reply may carry. Since
// 2018 WeChat shows only one in practice, and only one is allowed in answer
// to a text, image, video, news or location message.
const MaxNewsArticles = 8

// TextReply is a passive text reply (OA, WeCom app). ToUserName is the
// user's openid/userid, FromUserName the account's original id (gh_…) or corpid.
type TextReply struct {
	ToUserName   string
	FromUserName string
	CreateTime   int64
	Content      string // newlines allowed
}

// Article is one item of a news reply.
type Article struct {
	Title       string
	Description string
	PicURL      string
	URL         string
}

// NewsReply is a passive news (图文) reply.
type NewsReply struct {
	ToUserName   string
	FromUserName string
	CreateTime   int64
	Articles     []Article
}

// XML renders the reply as WeChat expects it, strings in CDATA. Characters
// XML cannot carry (control characters, invalid UTF-8) become U+FFFD.
func (r TextReply) XML() []byte {
	var b bytes.Buffer
	b.WriteString("<xml>")
	writeHeader(&b, r.ToUserName, r.FromUserName, r.CreateTime, "text")
	writeCDATA(&b, "Content", r.Content)
	b.WriteString("</xml>")
	return b.Bytes()
}

// XML renders the news reply. It fails with ErrInvalid when there are no
// articles or more than MaxNewsArticles.
func (r NewsReply) XML() ([]byte, error) {
	if len(r.Articles) == 0 || len(r.Articles) > MaxNewsArticles {
		return nil, fmt.Errorf("news reply: %d articles, want 1..%d: %w", len(r.Articles), MaxNewsArticles, ErrInvalid)
	}
	var b bytes.Buffer
	b.WriteString("<xml>")
	writeHeader(&b, r.ToUserName, r.FromUserName, r.CreateTime, "news")
	writeText(&b, "ArticleCount", strconv.Itoa(len(r.Articles)))
	b.WriteString("<Articles>")
	for _, a := range r.Articles {
		b.WriteString("<item>")
		writeCDATA(&b, "Title", a.Title)
		writeCDATA(&b, "Description", a.Description)
		writeCDATA(&b, "PicUrl", a.PicURL)
		writeCDATA(&b, "Url", a.URL)
		b.WriteString("</item>")
	}
	b.WriteString("</Articles></xml>")
	return b.Bytes(), nil
}

func writeHeader(b *bytes.Buffer, to, from string, createTime int64, msgType string) {
	writeCDATA(b, "ToUserName", to)
	writeCDATA(b, "FromUserName", from)
	writeText(b, "CreateTime", strconv.FormatInt(createTime, 10))
	writeCDATA(b, "MsgType", msgType)
}

// writeCDATA writes <name><![CDATA[s]]></name>. A "]]>" inside s would end
// the section early, so it is split across two sections.
func writeCDATA(b *bytes.Buffer, name, s string) {
	b.WriteString("<" + name + "><![CDATA[")
	b.WriteString(strings.ReplaceAll(xmlSafe(s), "]]>", "]]]]><![CDATA[>"))
	b.WriteString("]]></" + name + ">")
}

// writeText writes <name>s</name> with s escaped.
func writeText(b *bytes.Buffer, name, s string) {
	b.WriteString("<" + name + ">")
	_ = xml.EscapeText(b, []byte(xmlSafe(s))) // a bytes.Buffer never fails
	b.WriteString("</" + name + ">")
}

// xmlSafe replaces what XML 1.0 cannot carry, even in CDATA, with U+FFFD.
func xmlSafe(s string) string {
	ok := true
	for _, r := range s {
		if !xmlChar(r) {
			ok = false
			break
		}
	}
	if ok && utf8.ValidString(s) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if xmlChar(r) {
			return r
		}
		return utf8.RuneError
	}, strings.ToValidUTF8(s, string(utf8.RuneError)))
}

// xmlChar reports whether r is a Char in the XML 1.0 grammar.
func xmlChar(r rune) bool {
	switch {
	case r == 0x09 || r == 0x0A || r == 0x0D:
		return true
	case r >= 0x20 && r <= 0xD7FF:
		return true
	case r >= 0xE000 && r <= 0xFFFD:
		return true
	case r >= 0x10000 && r <= 0x10FFFF:
		return true
	}
	return false
}
