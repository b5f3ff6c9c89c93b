package runtime

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestVLQRoundTrip(t *testing.T) {
	for _, v := range []int{0, 1, -1, 15, 16, -16, 31, 32, 1000, -1000, 1 << 20} {
		var b strings.Builder
		encodeVLQ(&b, v)
		got, err := decodeVLQ(b.String())
		if err != nil || len(got) != 1 || got[0] != v {
			t.Errorf("encode %d = %q, decoded %v, %v; want [%d]", v, b.String(), got, err, v)
		}
	}
}

func TestAdjustSourceMap(t *testing.T) {
	// Line 1: one segment at generated column 0 -> source 0, line 0, column 0.
	// Line 2: generated column 2 -> line 1, column 4; then column 6 -> line 1, column 8.
	in := `{"version":3,"sources":["/abs/path/x.js"],"mappings":"AAAA;EACI,IAAI"}`
	out, err := adjustSourceMap([]byte(in), "x.js", 10)
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Sources  []string `json:"sources"`
		Mappings string   `json:"mappings"`
	}
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Sources) != 1 || m.Sources[0] != "x.js" {
		t.Errorf("got sources %q, want [x.js]", m.Sources)
	}
	// Decode to absolute values: generated columns +1 (and +10 on line 1), source
	// columns +1, lines unchanged.
	var got [][]int
	var abs [5]int
	for _, line := range strings.Split(m.Mappings, ";") {
		abs[0] = 0
		for _, seg := range strings.Split(line, ",") {
			d, err := decodeVLQ(seg)
			if err != nil {
				t.Fatal(err)
			}
			for i := range d {
				abs[i] += d[i]
			}
			got = append(got, []int{abs[0], abs[2], abs[3]})
		}
	}
	want := [][]int{{11, 0, 1}, {3, 1, 5}, {7, 1, 9}}
	if len(got) != len(want) {
		t.Fatalf("got segments %v, want %v", got, want)
	}
	for i := range want {
		if got[i][0] != want[i][0] || got[i][1] != want[i][1] || got[i][2] != want[i][2] {
			t.Errorf("segment %d: got (gen col, line, col) %v, want %v", i, got[i], want[i])
		}
	}
}
