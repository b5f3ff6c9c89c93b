package runtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// goja reads source-map columns as if they were 1-based: it looks a position up
// with its 1-based column and reports the mapped column as is, while source maps
// count columns from 0. The result is off by one, and the lookup may land on the
// next token. adjustSourceMap rewrites esbuild's map so that goja's positions come
// out right: every generated and original column moves up by one, generated
// columns of the first line also by the module wrapper that precedes the code
// there, and "sources" is the module's base name, which goja resolves against
// the file name it compiles (a full path there would be doubled for a relative
// projects root).
func adjustSourceMap(data []byte, source string, firstLineShift int) ([]byte, error) {
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("source map: %w", err)
	}
	mappings, _ := m["mappings"].(string)
	lines := strings.Split(mappings, ";")
	var out strings.Builder
	var prev [5]int // absolute values of the previous segment (generated column reset per line)
	var next [5]int // the same after adjusting, for re-encoding the deltas
	for li, line := range lines {
		if li > 0 {
			out.WriteByte(';')
		}
		prev[0], next[0] = 0, 0
		for si, seg := range strings.Split(line, ",") {
			if seg == "" {
				continue
			}
			deltas, err := decodeVLQ(seg)
			if err != nil {
				return nil, fmt.Errorf("source map: %w", err)
			}
			if si > 0 {
				out.WriteByte(',')
			}
			for i, d := range deltas {
				prev[i] += d
				v := prev[i]
				switch i {
				case 0:
					v++
					if li == 0 {
						v += firstLineShift
					}
				case 3:
					v++
				}
				encodeVLQ(&out, v-next[i])
				next[i] = v
			}
		}
	}
	m["mappings"] = out.String()
	m["sources"] = []string{source}
	return json.Marshal(m)
}

const vlqChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

// decodeVLQ decodes one source-map segment into its (delta) fields.
func decodeVLQ(seg string) ([]int, error) {
	var fields []int
	value, shift := 0, 0
	for i := 0; i < len(seg); i++ {
		digit := strings.IndexByte(vlqChars, seg[i])
		if digit < 0 {
			return nil, fmt.Errorf("invalid character %q in mappings", seg[i])
		}
		value += (digit & 31) << shift
		if digit&32 != 0 {
			shift += 5
			continue
		}
		if value&1 != 0 {
			fields = append(fields, -(value >> 1))
		} else {
			fields = append(fields, value>>1)
		}
		value, shift = 0, 0
	}
	if shift != 0 {
		return nil, errors.New("truncated segment in mappings")
	}
	if len(fields) > 5 {
		return nil, fmt.Errorf("segment %q has %d fields", seg, len(fields))
	}
	return fields, nil
}

// encodeVLQ appends v in base64 VLQ.
func encodeVLQ(b *strings.Builder, v int) {
	u := v << 1
	if v < 0 {
		u = (-v << 1) | 1
	}
	for {
		digit := u & 31
		u >>= 5
		if u > 0 {
			digit |= 32
		}
		b.WriteByte(vlqChars[digit])
		if u == 0 {
			return
		}
	}
}
