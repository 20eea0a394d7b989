package wechatapi

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// WebhookSend posts through a WeCom group robot (its webhook URL holds the
// key). The robot takes 20 messages a minute; the bucket keeps under it.
func (c *Client) WebhookSend(ctx context.Context, webhook string, m Message) error {
	u, err := url.Parse(webhook)
	if err != nil || u.Query().Get("key") == "" {
		return qunyun.Errorf(qunyun.EINVALID, "robot webhook URL is not .../webhook/send?key=...")
	}
	body := m.body(nil)
	if m.Kind == qunyun.ContentImage {
		// A robot cannot use a media_id: it takes the image itself.
		img, err := c.robotImage(ctx, m.PicURL)
		if err != nil {
			return err
		}
		body = map[string]any{"msgtype": "image", "image": img}
	}
	robot := "robot:" + u.Query().Get("key")
	waits := c.backoff()
	for {
		if err := c.Limits.Wait(ctx, robot, pathWebhookSend); err != nil {
			return notSent(err)
		}
		err := c.do(ctx, http.MethodPost, webhook, pathWebhookSend, body, nil)
		if err == nil || !Throttled(err) || len(waits) == 0 {
			return err
		}
		if err := c.sleep(ctx, waits[0]); err != nil {
			return notSent(err)
		}
		waits = waits[1:]
	}
}

// RobotImage is a group robot's image message: the picture itself, base64,
// with the MD5 of its bytes (hex), not a media_id.
type RobotImage struct {
	Base64 string `json:"base64"`
	MD5    string `json:"md5"`
}

// NewRobotImage encodes picture bytes for the robot.
func NewRobotImage(data []byte) RobotImage {
	sum := md5.Sum(data)
	return RobotImage{Base64: base64.StdEncoding.EncodeToString(data), MD5: hex.EncodeToString(sum[:])}
}

// robotImage fetches an image content's picture for the robot. A fetch that
// fails has posted nothing (notSent: try later); a picture the robot cannot
// take is a configuration error.
func (c *Client) robotImage(ctx context.Context, picURL string) (RobotImage, error) {
	u, err := url.Parse(picURL)
	if picURL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return RobotImage{}, qunyun.Errorf(qunyun.EINVALID, "a robot image needs the content's picUrl (http or https): the robot takes the image, not a media_id")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, picURL, nil)
	if err != nil {
		return RobotImage{}, qunyun.Errorf(qunyun.EINVALID, "robot image: %v", err)
	}
	res, err := c.httpClient().Do(req)
	if err != nil {
		return RobotImage{}, notSent(qunyun.Errorf(qunyun.EUNAVAILABLE, "robot image %s: fetch failed", u.Host))
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return RobotImage{}, notSent(qunyun.Errorf(qunyun.EUNAVAILABLE, "robot image %s: HTTP %d", u.Host, res.StatusCode))
	}
	data, err := io.ReadAll(io.LimitReader(res.Body, RobotImageMax+1))
	if err != nil {
		return RobotImage{}, notSent(qunyun.Errorf(qunyun.EUNAVAILABLE, "robot image %s: read: %v", u.Host, err))
	}
	if len(data) > RobotImageMax {
		return RobotImage{}, qunyun.Errorf(qunyun.EINVALID, "robot image %s is larger than 2 MB", u.Host)
	}
	return NewRobotImage(data), nil
}
