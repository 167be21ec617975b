package sshlog

import (
	"encoding/binary"

	"github.com/cespare/xxhash/v2"
)

// Seeds of the two XXH64 halves of row_hash (see the package documentation).
const (
	rowHashSeed1 uint64 = 0
	rowHashSeed2 uint64 = 0x9E3779B97F4A7C15
)

// RowHash returns the row_hash of the line at offset in the file sourcePath:
// 32 lowercase hex digits, hex(XXH64(msg, 0)) || hex(XXH64(msg, 0x9E3779B97F4A7C15))
// with msg = sourcePath || 0x00 || offset (8 bytes big-endian) || line, where line has
// a trailing "\n" and then a trailing "\r" removed.
func RowHash(sourcePath string, offset int64, line string) string {
	var h rowHasher
	h.init(sourcePath)
	var out [32]byte
	h.sum(&out, offset, trimEOL(line))
	return string(out[:])
}

// rowHasher holds the two digests after the path prefix, so a line costs one copy of
// each state plus the offset and the line.
type rowHasher struct {
	d1, d2 xxhash.Digest
}

func (h *rowHasher) init(path string) {
	h.d1.ResetWithSeed(rowHashSeed1)
	h.d2.ResetWithSeed(rowHashSeed2)
	h.d1.WriteString(path)
	h.d2.WriteString(path)
	h.d1.WriteString("\x00")
	h.d2.WriteString("\x00")
}

// sum writes the row hash of line, which has its terminator removed already.
func (h *rowHasher) sum(out *[32]byte, offset int64, line string) {
	var off [8]byte
	binary.BigEndian.PutUint64(off[:], uint64(offset))
	d1, d2 := h.d1, h.d2
	d1.Write(off[:])
	d2.Write(off[:])
	d1.WriteString(line)
	d2.WriteString(line)
	putHex64(out[0:16], d1.Sum64())
	putHex64(out[16:32], d2.Sum64())
}

const hexDigits = "0123456789abcdef"

func putHex64(dst []byte, v uint64) {
	_ = dst[15]
	for i := 15; i >= 0; i-- {
		dst[i] = hexDigits[v&0xf]
		v >>= 4
	}
}

// trimEOL removes one trailing "\n" and then one trailing "\r".
func trimEOL(s string) string {
	if n := len(s); n > 0 && s[n-1] == '\n' {
		s = s[:n-1]
	}
	if n := len(s); n > 0 && s[n-1] == '\r' {
		s = s[:n-1]
	}
	return s
}
