package wechat

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// The AES message format shared by OA, WeCom and the smart bot:
//
//	aesKey    = base64(EncodingAESKey + "=")      // 32 bytes, AES-256
//	iv        = aesKey[:16]
//	plaintext = random(16) ‖ msg_len (4 bytes, big-endian) ‖ msg ‖ receiveid
//	padded    = PKCS#7 to a multiple of 32 bytes  // not 16: pad values are 1..32
//	Encrypt   = base64(AES-256-CBC(padded))
const (
	randomSize   = 16
	lengthSize   = 4
	headerSize   = randomSize + lengthSize
	padBlockSize = 32
)

// Crypto holds the secrets of one account's callback: the token that signs,
// the AES key that encrypts, and the receiveid the plaintext must end with
// (OA appid, WeCom corpid, "" for the smart bot).
//
// The receiveid is always checked exactly: unlike the official samples, an
// empty receiveid does not switch the check off, it requires an empty
// trailer. Configure "" only for the smart bot.
//
// A Crypto is safe for concurrent use.
type Crypto struct {
	token     string
	block     cipher.Block
	iv        []byte
	receiveID string
}

// NewCrypto builds a Crypto from the console settings. It fails with ErrAESKey
// when encodingAESKey is not 43 base64 characters, and with ErrMissingField
// when token is empty.
func NewCrypto(token, encodingAESKey, receiveID string) (*Crypto, error) {
	if token == "" {
		return nil, fmt.Errorf("new crypto: token: %w", ErrMissingField)
	}
	key, err := aesKey(encodingAESKey)
	if err != nil {
		return nil, fmt.Errorf("new crypto: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("new crypto: %w", err)
	}
	return &Crypto{token: token, block: block, iv: key[:aes.BlockSize], receiveID: receiveID}, nil
}

// CheckEncodingAESKey reports whether encodingAESKey can be an account's
// key (ErrAESKey if not), so a configuration is refused when it is loaded
// rather than on every callback. The error never shows the key.
func CheckEncodingAESKey(encodingAESKey string) error {
	_, err := aesKey(encodingAESKey)
	return err
}

// aesKey decodes the console's 43 base64 characters into the 32-byte key.
func aesKey(encodingAESKey string) ([]byte, error) {
	if len(encodingAESKey) != 43 {
		return nil, fmt.Errorf("EncodingAESKey has %d characters, want 43: %w", len(encodingAESKey), ErrAESKey)
	}
	// StdEncoding (not Strict): the console's keys are random [a-zA-Z0-9], so
	// the last character often carries non-zero unused bits.
	key, err := base64.StdEncoding.DecodeString(encodingAESKey + "=")
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("EncodingAESKey is not base64: %w", ErrAESKey)
	}
	return key, nil
}

// ReceiveID returns the receiveid this Crypto requires and writes.
func (c *Crypto) ReceiveID() string { return c.receiveID }

// Open verifies msgSignature over (token, timestamp, nonce, encrypt) and only
// then decrypts encrypt. Checking the signature first means malformed
// ciphertext from anyone without the token never reaches the decryptor, so
// padding errors cannot be used as an oracle.
//
// Open serves encrypted POSTs (OA safe/compatible mode, WeCom, smart bot) and
// WeCom/smart-bot GET verification, where encrypt is the echostr and the
// result is the text to answer with.
func (c *Crypto) Open(msgSignature, timestamp, nonce, encrypt string) ([]byte, error) {
	if err := VerifyMsgSignature(c.token, timestamp, nonce, encrypt, msgSignature); err != nil {
		return nil, err
	}
	return c.Decrypt(encrypt)
}

// VerifyURL answers a WeCom or smart-bot GET verification: it returns the
// decrypted echostr to write back as the raw response body (no quotes, no
// newline), within 1 s. OA GET verification is different: see VerifySignature.
//
// Pass the query values URL-decoded. base64 contains '+', which a decoder
// turns into a space when WeChat sent it unescaped; a space never occurs in
// base64, so the HTTP layer may safely map it back before calling.
func (c *Crypto) VerifyURL(msgSignature, timestamp, nonce, echostr string) ([]byte, error) {
	msg, err := c.Open(msgSignature, timestamp, nonce, echostr)
	if err != nil {
		return nil, fmt.Errorf("verify url: %w", err)
	}
	return msg, nil
}

// Decrypt decrypts a base64 Encrypt value and returns msg, after checking the
// padding, msg_len and receiveid. It does not check any signature: call Open
// unless the signature was verified already.
func (c *Crypto) Decrypt(encrypt string) ([]byte, error) {
	if len(encrypt) > MaxBodySize {
		return nil, fmt.Errorf("decrypt: %w", ErrTooLarge)
	}
	data, err := base64.StdEncoding.DecodeString(encrypt)
	if err != nil {
		return nil, fmt.Errorf("decrypt: %w", ErrBase64)
	}
	if len(data) == 0 || len(data)%aes.BlockSize != 0 {
		return nil, fmt.Errorf("decrypt: %d bytes: %w", len(data), ErrBlockSize)
	}
	plain := c.decryptCBC(data)

	plain, err = unpad(plain)
	if err != nil {
		return nil, fmt.Errorf("decrypt: %w", err)
	}
	if len(plain) < headerSize {
		return nil, fmt.Errorf("decrypt: plaintext of %d bytes has no header: %w", len(plain), ErrLength)
	}
	// Compare as uint64 so a hostile msg_len near 2^32 cannot wrap around.
	msgLen := uint64(binary.BigEndian.Uint32(plain[randomSize:headerSize]))
	if msgLen > uint64(len(plain)-headerSize) {
		return nil, fmt.Errorf("decrypt: msg_len %d exceeds the %d bytes left: %w", msgLen, len(plain)-headerSize, ErrLength)
	}
	end := headerSize + int(msgLen)
	if subtle.ConstantTimeCompare(plain[end:], []byte(c.receiveID)) != 1 {
		return nil, fmt.Errorf("decrypt: %w", ErrReceiveID)
	}
	return plain[headerSize:end], nil
}

// decryptCBC decrypts data in place: P[i] = D(C[i]) XOR C[i-1], with the
// IV as C[-1]. From the last block back, each C[i-1] is still intact when
// it is needed. The same result as cipher.NewCBCDecrypter, without
// building one for every callback (a sixth of Open's time).
func (c *Crypto) decryptCBC(data []byte) []byte {
	var tmp [aes.BlockSize]byte
	for i := len(data) - aes.BlockSize; i >= 0; i -= aes.BlockSize {
		c.block.Decrypt(tmp[:], data[i:i+aes.BlockSize])
		prev := c.iv
		if i > 0 {
			prev = data[i-aes.BlockSize : i]
		}
		subtle.XORBytes(data[i:i+aes.BlockSize], tmp[:], prev)
	}
	return data
}

// Encrypt encrypts msg with 16 bytes read from random (crypto/rand.Reader when
// random is nil) and returns the base64 Encrypt value. A fixed reader
// reproduces published vectors.
func (c *Crypto) Encrypt(msg []byte, random io.Reader) (string, error) {
	if uint64(len(msg)) > math.MaxUint32 {
		return "", fmt.Errorf("encrypt: %d bytes: %w", len(msg), ErrTooLarge)
	}
	if random == nil {
		random = rand.Reader
	}
	n := headerSize + len(msg) + len(c.receiveID)
	pad := padBlockSize - n%padBlockSize // 1..32; 32 when n is already aligned
	buf := make([]byte, n+pad)
	if _, err := io.ReadFull(random, buf[:randomSize]); err != nil {
		return "", fmt.Errorf("encrypt: read random: %w", err)
	}
	binary.BigEndian.PutUint32(buf[randomSize:headerSize], uint32(len(msg)))
	copy(buf[headerSize:], msg)
	copy(buf[headerSize+len(msg):], c.receiveID)
	for i := n; i < len(buf); i++ {
		buf[i] = byte(pad)
	}
	cipher.NewCBCEncrypter(c.block, c.iv).CryptBlocks(buf, buf)
	return base64.StdEncoding.EncodeToString(buf), nil
}

// Seal encrypts a reply and signs it with the given timestamp and nonce,
// which may be fresh or reused from the request.
func (c *Crypto) Seal(msg []byte, timestamp, nonce string, random io.Reader) (EncryptedReply, error) {
	enc, err := c.Encrypt(msg, random)
	if err != nil {
		return EncryptedReply{}, fmt.Errorf("seal: %w", err)
	}
	return EncryptedReply{
		Encrypt:      enc,
		MsgSignature: MsgSignature(c.token, timestamp, nonce, enc),
		TimeStamp:    timestamp,
		Nonce:        nonce,
	}, nil
}

// unpad strips PKCS#7 padding with 32-byte blocks: the pad value must be
// 1..32 and every pad byte must equal it.
func unpad(b []byte) ([]byte, error) {
	pad := int(b[len(b)-1])
	if pad < 1 || pad > padBlockSize || pad > len(b) {
		return nil, fmt.Errorf("pad byte %d: %w", pad, ErrPadding)
	}
	for _, v := range b[len(b)-pad:] {
		if int(v) != pad {
			return nil, fmt.Errorf("pad bytes disagree: %w", ErrPadding)
		}
	}
	return b[:len(b)-pad], nil
}
