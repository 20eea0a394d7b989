package callback

import (
	"context"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// link serves a tracked link: record the open, then redirect. The member
// gets their content even when recording fails.
func (h *Handler) link(ctx context.Context, req events.APIGatewayV2HTTPRequest, code string) events.APIGatewayV2HTTPResponse {
	if !validCode(code) {
		return notFoundPage(h.Service.Texts.LinkNotFoundPage)
	}
	s := h.Service
	l, found, err := s.links.load(code, h.Now(), func() (qunyun.Link, bool, error) { return s.Store.Links.Link(ctx, code) })
	if err != nil {
		h.Log.ErrorContext(ctx, "callback: read link", "code", code, "error", err.Error())
		return text(http.StatusServiceUnavailable, "temporarily unavailable, retry")
	}
	if !found || !safeURL(l.URL) {
		return notFoundPage(s.Texts.LinkNotFoundPage)
	}
	q := query(req)
	open := qunyun.LinkOpen{GroupID: l.GroupID, ContentID: l.ContentID, DeliveryID: l.DeliveryID,
		MemberID: l.MemberID, From: q.Get("from"), At: h.Now().UTC()}
	reqID := req.RequestContext.RequestID
	if reqID == "" {
		b := make([]byte, 8)
		_ = h.random(b)
		reqID = hex.EncodeToString(b)
	}
	ua := header(req.Headers)("User-Agent")
	if len(ua) > 256 {
		ua = strings.ToValidUTF8(ua[:256], "")
	}
	// HEAD is a preview or a crawler, not a reader.
	if req.RequestContext.HTTP.Method != http.MethodHead {
		if err := s.Store.Links.RecordLinkOpen(ctx, l, open, reqID, ua); err != nil {
			s.secondary(ctx, "record link open", err)
		}
	}
	return events.APIGatewayV2HTTPResponse{StatusCode: http.StatusFound,
		Headers: map[string]string{"Location": l.URL, "Cache-Control": "no-store"}}
}

func validCode(code string) bool {
	if code == "" || len(code) > 64 {
		return false
	}
	for _, r := range code {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// safeURL keeps the redirect to web links: never javascript: or data:.
func safeURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}
