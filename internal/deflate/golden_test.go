package deflate

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
)

// The encoder's output is pinned: goldenInputs are 6,000 deterministic inputs
// (session payloads from 75 bytes to 60 KB, with carts,
// tokens, repeated and unique values; text; runs; random bytes), and
// testdata/golden.txt holds the SHA-256 of all their compressions, each led
// by its length, as the encoder wrote them when it moved into this package.
// A change of the encoder that changes a single output byte fails
// TestCompressGolden; when that is intended, GOLDEN_UPDATE=1 rewrites the
// file, and the commit says why.

const goldenCount = 6000

func goldenInputs(yield func([]byte) bool) {
	rng := rand.New(rand.NewPCG(2026, 17))
	token := func(n int) string { return randomToken(rng, n) }
	words := strings.Fields("user cart theme dark light visits csrf locale en-GB fr-FR return_to /account/orders page sort date status open admin true false null sku name qty price Item number a fine thing")
	for i := range goldenCount {
		var b strings.Builder
		switch i % 6 {
		case 0, 1, 2: // a session payload
			fmt.Fprintf(&b, `{"sid":"%s","iat":%d,"lat":%d,"exp":%d,"v":{`, token(22), 1764160000+rng.IntN(1e6), 1764160000+rng.IntN(1e6), 1764246400+rng.IntN(1e6))
			target := []int{150, 300, 600, 1500, 3000, 10000, 40000}[rng.IntN(7)] * (50 + rng.IntN(100)) / 100
			for k := 0; b.Len() < target; k++ {
				switch rng.IntN(4) {
				case 0:
					fmt.Fprintf(&b, `"%s%d":%d,`, words[rng.IntN(len(words))], k, rng.IntN(1<<rng.IntN(40)))
				case 1:
					fmt.Fprintf(&b, `"csrf%d":"%s",`, k, token(43))
				case 2:
					fmt.Fprintf(&b, `"%s":"%s %s",`, words[rng.IntN(len(words))], words[rng.IntN(len(words))], words[rng.IntN(len(words))])
				default:
					fmt.Fprintf(&b, `"cart%d":[`, k)
					for j := range 1 + rng.IntN(12) {
						fmt.Fprintf(&b, `{"sku":"SKU-%05d-%s","name":"Item number %d, a fine thing","qty":%d,"price":%d},`, j+1, token(6), j+1, 1+rng.IntN(3), 100+rng.IntN(9900))
					}
					b.WriteString(`{}],`)
				}
			}
			b.WriteString(`"end":true}}`)
		case 3: // text
			for n := rng.IntN(8000); b.Len() < n; {
				b.WriteString(words[rng.IntN(len(words))])
				b.WriteByte(" \n,."[rng.IntN(4)])
			}
		case 4: // runs
			for n := rng.IntN(8000); b.Len() < n; {
				b.WriteString(strings.Repeat(string(rune('a'+rng.IntN(3))), 1+rng.IntN(300)))
			}
		default: // random bytes, some of them short
			n := rng.IntN(1 << rng.IntN(15))
			for range n {
				b.WriteByte(byte(rng.Uint32()))
			}
		}
		if !yield([]byte(b.String())) {
			return
		}
	}
}

// goldenDigest returns the SHA-256 of the compressions of goldenInputs by
// compress, each led by its length (8 bytes, little-endian).
func goldenDigest(t *testing.T, compress func(dst, src []byte) ([]byte, error)) (digest string, n, in, out int) {
	h := sha256.New()
	var z []byte
	for src := range goldenInputs {
		var err error
		z, err = compress(z[:0], src)
		if err != nil {
			t.Fatal(err)
		}
		h.Write(binary.LittleEndian.AppendUint64(nil, uint64(len(z))))
		h.Write(z)
		n, in, out = n+1, in+len(src), out+len(z)
	}
	return hex.EncodeToString(h.Sum(nil)), n, in, out
}

func TestCompressGolden(t *testing.T) {
	digest, n, in, out := goldenDigest(t, compressForGolden)
	line := fmt.Sprintf("%d inputs, %d bytes, compressed to %d bytes, sha256 %s\n", n, in, out, digest)
	if os.Getenv("GOLDEN_UPDATE") == "1" {
		if err := os.WriteFile("testdata/golden.txt", []byte(line), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile("testdata/golden.txt")
	if err != nil {
		t.Fatal(err)
	}
	if n != goldenCount || line != string(want) {
		t.Fatalf("the encoder's output changed:\ngot  %swant %s", line, want)
	}
}

var compressForGolden = Compress
