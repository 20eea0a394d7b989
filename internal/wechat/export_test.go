package wechat

import "encoding/xml"

// The two readers of the flat XML documents, for FuzzFlatXML: the fast path
// alone (ok is false when it declines) and encoding/xml alone.

func FlatWire(data []byte) (any, bool) {
	var w wire
	ok := w.decodeFlat(data)
	return w, ok
}

func XMLWire(data []byte) (any, error) {
	var w wire
	err := xml.Unmarshal(data, &w)
	return w, err
}

func FlatEnvelope(data []byte) (any, bool) {
	return parseEnvelopeFlat(data)
}

func XMLEnvelope(data []byte) (any, error) {
	var e xmlEnvelope
	err := xml.Unmarshal(data, &e)
	return e, err
}
