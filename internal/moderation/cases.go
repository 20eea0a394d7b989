package moderation

import (
	"crypto/sha256"
	"net/url"
	"slices"
	"strings"
)

// codeAlphabet leaves out letters and digits a moderator could misread
// (0/O, 1/I/L) when typing a code back from their phone.
const codeAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

// CaseCode is the short code an alert gives a hit, derived from the hit's
// id so every copy of the alert names the same case. Six characters of 31
// are about 900 million codes: a collision among one community's alerts is
// negligible, and OpenCase keeps the first case of a code anyway.
func CaseCode(hitID string) string {
	sum := sha256.Sum256([]byte(hitID))
	var b strings.Builder
	for _, c := range sum[:6] {
		b.WriteByte(codeAlphabet[int(c)%len(codeAlphabet)])
	}
	return b.String()
}

// NormaliseCode reads a code as a moderator typed it: case and spaces do not
// matter.
func NormaliseCode(s string) string {
	return strings.ToUpper(strings.TrimSpace(s))
}

// Domains returns the host names of the links in text (explicit URLs and
// bare domains), lower-cased, each once: what "fine" allows for a link.
func Domains(text string) []string {
	var out []string
	for _, link := range urlPattern.FindAllString(text, -1) {
		if !strings.Contains(link, "://") {
			link = "http://" + link
		}
		u, err := url.Parse(link)
		if err != nil || u.Hostname() == "" {
			continue
		}
		host := strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.")
		if !slices.Contains(out, host) {
			out = append(out, host)
		}
	}
	return out
}
