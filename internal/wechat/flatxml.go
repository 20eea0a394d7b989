package wechat

import (
	"bytes"
	"encoding/binary"
	"strconv"
	"strings"
	"unicode/utf8"
)

// flatXML reads the one shape of XML that WeChat and WeCom send: a root
// <xml> whose children hold text or CDATA, and a few children that hold
// such elements in turn (<MemChangeList><Item>…</Item></MemChangeList>):
//
//	<xml><ToUserName><![CDATA[gh_…]]></ToUserName><CreateTime>1</CreateTime>…</xml>
//
// It is the callback's fast path, in place of encoding/xml, which took 90 %
// of decrypting and decoding a message. It knows nothing of XML beyond
// that shape: no declaration, comment, attribute, namespace, self-closing
// tag, character reference, carriage return or deeper nesting, and only
// ASCII names. On anything else it stops and reports it did not read the
// document (ok is false), and the caller decodes with encoding/xml, which
// then accepts or rejects exactly as before. So the fast path may decline
// what is well-formed, but what it accepts, encoding/xml accepts with the
// same values: FuzzFlatXML holds it to that.
//
// Use it as an iterator over the fields:
//
//	x := flatXML{data: data}
//	for x.next() {
//		switch string(x.name) { … } // x.parent is nil for the root's children
//	}
//	if !x.ok() { /* decode with encoding/xml */ }
//
// x.name and x.value alias data or a scratch buffer and are valid until the
// next call of next; x.str() copies the value.
type flatXML struct {
	data []byte
	pos  int
	// parent is the name of the child of the root whose elements are being
	// read, nil while reading the root's children.
	parent []byte
	name   []byte
	value  []byte
	off    int    // where value starts in data; -1 when value is buf
	buf    []byte // value, when it is not one run of data
	doc    string // data as a string, made by str when first needed
	state  flatState
}

type flatState uint8

const (
	flatStart flatState = iota
	flatRunning
	flatDone     // read up to </xml>; what follows is ignored, as encoding/xml does
	flatDeclined // not the flat shape: decode with encoding/xml
)

// ok reports whether the whole document was read (next returned false at </xml>).
func (x *flatXML) ok() bool { return x.state == flatDone }

func (x *flatXML) decline() bool {
	x.state = flatDeclined
	return false
}

// next advances to the next element that holds text: a child of the root,
// or an element of a child that holds elements (then x.parent names that
// child). It returns false at the root's end tag or when it declines.
func (x *flatXML) next() bool {
	switch x.state {
	case flatStart:
		x.skipSpace()
		if !bytes.HasPrefix(x.data[x.pos:], []byte("<xml>")) {
			return x.decline()
		}
		x.pos += len("<xml>")
		x.state = flatRunning
	case flatRunning:
	default:
		return false
	}
	for {
		x.skipSpace()
		if x.pos >= len(x.data) || x.data[x.pos] != '<' {
			return x.decline()
		}
		if x.pos+1 < len(x.data) && x.data[x.pos+1] == '/' {
			// The end of the open container, or of the root.
			want := x.parent
			if want == nil {
				want = []byte("xml")
			}
			if !x.endTag(want) {
				return x.decline()
			}
			if x.parent == nil {
				x.state = flatDone
				return false
			}
			x.parent = nil
			continue
		}
		name, ok := x.startTag()
		if !ok {
			return x.decline()
		}
		value, off, onlySpace, ok := x.text()
		if !ok {
			return x.decline()
		}
		if x.endTag(name) {
			x.name, x.value, x.off = name, value, off
			return true
		}
		// Not the end of name: name holds elements. Allowed one level
		// below the root, with nothing but layout around them.
		if x.parent != nil || !onlySpace {
			return x.decline()
		}
		x.parent = name
	}
}

func (x *flatXML) skipSpace() {
	for x.pos < len(x.data) {
		switch x.data[x.pos] {
		case ' ', '\t', '\n':
			x.pos++
		default:
			return
		}
	}
}

// startTag reads <Name> at x.pos and returns Name.
func (x *flatXML) startTag() ([]byte, bool) {
	end, ok := x.nameAt(x.pos + 1)
	if !ok || end >= len(x.data) || x.data[end] != '>' {
		return nil, false
	}
	name := x.data[x.pos+1 : end]
	x.pos = end + 1
	return name, true
}

// endTag reads </name> at x.pos; it leaves x.pos alone if that is not there.
func (x *flatXML) endTag(name []byte) bool {
	rest := x.data[x.pos:]
	n := len(name)
	if len(rest) < n+3 || rest[0] != '<' || rest[1] != '/' || !bytes.Equal(rest[2:2+n], name) || rest[2+n] != '>' {
		return false
	}
	x.pos += n + 3
	return true
}

// nameAt returns the end of the ASCII name starting at i.
func (x *flatXML) nameAt(i int) (int, bool) {
	start := i
	for ; i < len(x.data); i++ {
		c := x.data[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', c == '_':
		case i > start && ('0' <= c && c <= '9' || c == '.' || c == '-'):
		default:
			return i, i > start
		}
	}
	return i, false
}

var cdataStart = []byte("<![CDATA[")

// text reads an element's content up to the next tag: runs of text, CDATA
// sections, the five predefined entities and character references.
// onlySpace tells whether it was all layout (spaces, tabs, newlines outside
// CDATA). The value is data[off:off+len(value)] when the content is one run
// or one CDATA section, as it nearly always is; otherwise it is x.buf and
// off is -1.
func (x *flatXML) text() (value []byte, off int, onlySpace, ok bool) {
	onlySpace = true
	off = -1
	pieces := 0
	add := func(start, end int) {
		switch pieces {
		case 0:
			value, off = x.data[start:end], start
		case 1:
			x.buf = append(x.buf[:0], value...)
			fallthrough
		default:
			x.buf = append(x.buf, x.data[start:end]...)
			value, off = x.buf, -1
		}
		pieces++
	}
	for x.pos < len(x.data) {
		switch x.data[x.pos] {
		case '<':
			if !bytes.HasPrefix(x.data[x.pos:], cdataStart) {
				return value, off, onlySpace, true
			}
			start := x.pos + len(cdataStart)
			end := bytes.Index(x.data[start:], []byte("]]>"))
			if end < 0 || !validText(x.data[start:start+end]) {
				return nil, -1, false, false
			}
			add(start, start+end)
			onlySpace = false
			x.pos = start + end + len("]]>")
		case '&':
			r, n := reference(x.data[x.pos:])
			if n == 0 {
				return nil, -1, false, false
			}
			if pieces == 1 {
				x.buf = append(x.buf[:0], value...)
			} else if pieces == 0 {
				x.buf = x.buf[:0]
			}
			x.buf = utf8.AppendRune(x.buf, r)
			value, off = x.buf, -1
			pieces = 2 // from now on, in x.buf
			onlySpace = false
			x.pos += n
		default:
			start := x.pos
			for x.pos < len(x.data) && x.data[x.pos] != '<' && x.data[x.pos] != '&' {
				if c := x.data[x.pos]; c != ' ' && c != '\t' && c != '\n' {
					onlySpace = false
				}
				x.pos++
			}
			run := x.data[start:x.pos]
			// encoding/xml refuses "]]>" outside CDATA.
			if !validText(run) || bytes.Contains(run, []byte("]]>")) {
				return nil, -1, false, false
			}
			add(start, x.pos)
		}
	}
	return nil, -1, false, false // no tag follows: truncated
}

// str returns x.value as a string. The values that are runs of data share
// one copy of the document: one allocation for all of them.
func (x *flatXML) str() string {
	if x.off < 0 || len(x.value) == 0 {
		return string(x.value)
	}
	if x.doc == "" {
		x.doc = string(x.data)
	}
	return x.doc[x.off : x.off+len(x.value)]
}

// reference decodes the entity or character reference at the start of b as
// encoding/xml does (&lt; &gt; &amp; &apos; &quot;, &#NN; and &#xHH;) and
// returns its character and length, or a length of 0 for anything else.
func reference(b []byte) (rune, int) {
	for _, e := range entities {
		if bytes.HasPrefix(b, []byte(e.ref)) {
			return e.r, len(e.ref)
		}
	}
	if len(b) < 3 || b[1] != '#' {
		return 0, 0
	}
	i, base := 2, rune(10)
	if b[i] == 'x' {
		i, base = 3, 16
	}
	var n rune
	start := i
	// At most 7 digits, so n cannot overflow; encoding/xml takes more
	// (leading zeros), and the fallback reads those.
	for ; i < len(b) && i-start < 8; i++ {
		c := rune(b[i])
		switch {
		case '0' <= c && c <= '9' && i-start < 7:
			n = n*base + c - '0'
		case base == 16 && 'a' <= c && c <= 'f' && i-start < 7:
			n = n*base + c - 'a' + 10
		case base == 16 && 'A' <= c && c <= 'F' && i-start < 7:
			n = n*base + c - 'A' + 10
		default:
			if i == start || c != ';' || n > utf8.MaxRune {
				return 0, 0
			}
			// encoding/xml writes string(rune(n)), which is U+FFFD for a surrogate.
			if 0xD800 <= n && n <= 0xDFFF {
				n = utf8.RuneError
			}
			if !xmlRune(n) {
				return 0, 0
			}
			return n, i + 1
		}
	}
	return 0, 0 // too long to be a character, or no ';'
}

var entities = [...]struct {
	ref string
	r   rune
}{{"&lt;", '<'}, {"&gt;", '>'}, {"&amp;", '&'}, {"&apos;", '\''}, {"&quot;", '"'}}

// validText reports whether b is UTF-8 made of characters XML allows, with
// no carriage return (encoding/xml rewrites those to newlines; the fast
// path leaves such text to it).
func validText(b []byte) bool {
	for i := 0; i < len(b); {
		// Eight bytes at a time while they are printable ASCII, as base64
		// and ids are: no byte has its top bit set or is below 0x20.
		for ; i+8 <= len(b); i += 8 {
			w := binary.LittleEndian.Uint64(b[i:])
			if (w|(w-0x2020202020202020))&0x8080808080808080 != 0 {
				break
			}
		}
		if i >= len(b) {
			break
		}
		c := b[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 || !xmlRune(r) {
			return false
		}
		i += size
	}
	return true
}

// xmlRune is the Char production of XML 1.0, as encoding/xml checks it.
func xmlRune(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D || r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}

// flatField is where the text of one element goes, converted as
// encoding/xml converts it for a field of that type. A flatField with no
// destination drops the text.
type flatField struct {
	s   *string
	i   *int
	i64 *int64
	f64 *float64
}

// set stores x's value, or reports false when it is not a number where one
// is wanted: encoding/xml fails the document then, and the fallback says why.
func (f flatField) set(x *flatXML) bool {
	v := x.value
	switch {
	case f.s != nil:
		*f.s = x.str()
	case f.i != nil:
		n, ok := parseInt(v, strconv.IntSize)
		*f.i = int(n)
		return ok
	case f.i64 != nil:
		n, ok := parseInt(v, 64)
		*f.i64 = n
		return ok
	case f.f64 != nil:
		if len(v) == 0 {
			*f.f64 = 0
			return true
		}
		n, err := strconv.ParseFloat(strings.TrimSpace(string(v)), 64)
		*f.f64 = n
		return err == nil
	}
	return true
}

// parseInt converts v as encoding/xml does: empty is 0, anything else is
// strconv.ParseInt of its trimmed text. Plain digits, the usual case, are
// converted without the string.
func parseInt(v []byte, bits int) (int64, bool) {
	if len(v) == 0 {
		return 0, true
	}
	maxDigits := 18 // fit in an int64
	if bits < 64 {
		maxDigits = 9
	}
	if len(v) <= maxDigits {
		var n int64
		for _, c := range v {
			if c < '0' || c > '9' {
				goto slow
			}
			n = n*10 + int64(c-'0')
		}
		return n, true
	}
slow:
	n, err := strconv.ParseInt(strings.TrimSpace(string(v)), 10, bits)
	return n, err == nil
}
