package wechat_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// wecomCrypto is a node process timing @wecom/crypto verifying and
// decrypting one vector (testdata/wecom-crypto-bench.js), warm and waiting
// for rounds.
type wecomCrypto struct {
	Version          string  `json:"version"`
	Node             string  `json:"node"`
	First1000NsPerOp float64 `json:"first1000NsPerOp"`

	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

// startWeComCrypto starts the baseline. It skips the benchmark, saying why,
// when node or the package is missing. The package is looked up from
// $QUNYUN_WECOM_CRYPTO (its folder, or one with it under node_modules),
// else from infra/.
func startWeComCrypto(b *testing.B, v vector) *wecomCrypto {
	b.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		b.Skip("node is not installed: no @wecom/crypto baseline")
	}
	from := os.Getenv("QUNYUN_WECOM_CRYPTO")
	if from == "" {
		if from, err = filepath.Abs(filepath.Join("..", "..", "infra")); err != nil {
			b.Fatal(err)
		}
	}
	w := &wecomCrypto{cmd: exec.Command(node, filepath.Join("testdata", "wecom-crypto-bench.js"), from)}
	var stderr strings.Builder
	w.cmd.Stderr = &stderr
	if w.in, err = w.cmd.StdinPipe(); err != nil {
		b.Fatal(err)
	}
	out, err := w.cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	w.out = bufio.NewReader(out)
	if err := w.cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		w.in.Close()
		w.cmd.Wait()
	})
	vec, err := json.Marshal(map[string]any{
		"token": v.Token, "encodingAESKey": v.EncodingAESKey, "receiveId": v.ReceiveID,
		"timestamp": v.Timestamp, "nonce": v.Nonce, "encrypt": v.Encrypt, "msgSignature": v.MsgSignature,
		"expectMsg": v.ExpectMsg, "warmup": 50000,
	})
	if err != nil {
		b.Fatal(err)
	}
	line, err := w.ask(string(vec))
	if err != nil {
		w.in.Close()
		if exitErr := (*exec.ExitError)(nil); errors.As(w.cmd.Wait(), &exitErr) && exitErr.ExitCode() == 3 {
			b.Skipf("%s(install it there, or set QUNYUN_WECOM_CRYPTO to a folder that has it)", stderr.String())
		}
		b.Fatalf("node: %v\n%s", err, stderr.String())
	}
	if err := json.Unmarshal([]byte(line), w); err != nil {
		b.Fatalf("node said %q: %v", line, err)
	}
	return w
}

func (w *wecomCrypto) ask(line string) (string, error) {
	if _, err := fmt.Fprintln(w.in, line); err != nil {
		return "", err
	}
	answer, err := w.out.ReadString('\n')
	return strings.TrimSpace(answer), err
}

// round times n calls in node, in ns per call.
func (w *wecomCrypto) round(b *testing.B, n int) float64 {
	b.Helper()
	line, err := w.ask(strconv.Itoa(n))
	if err != nil {
		b.Fatalf("node round: %v", err)
	}
	ns, err := strconv.ParseFloat(line, 64)
	if err != nil {
		b.Fatalf("node round said %q", line)
	}
	return ns
}

// timeRound times n calls of f, in ns per call.
func timeRound(n int, f func()) float64 {
	start := time.Now() // wallclock: benchmark timing
	for range n {
		f()
	}
	return float64(time.Since(start).Nanoseconds()) / float64(n) // wallclock: benchmark timing
}
