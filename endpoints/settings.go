package endpoints

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
)

// SettingsFile is the name of a project's optional settings file, directly in the
// project folder.
const SettingsFile = "blimp.json"

// MaxWorkers bounds the workers a project may ask for.
const MaxWorkers = 64

// Settings are what a project asks of the server in its blimp.json. The zero value
// asks for nothing: the server's defaults apply.
type Settings struct {
	// Workers is the number of JavaScript workers the project runs in; 0 means the
	// server's runtime.workers.
	Workers int
}

// ParseSettings parses the blimp.json in data, read from file. Fields it does not
// know are returned as warnings; every problem is an *Error naming the file, with
// the line:column of the value it is about.
func ParseSettings(file string, data []byte) (Settings, []string, error) {
	o, err := decodeObject(file, data, `a project's blimp.json is a JSON object like {"workers": 2}, got %s`, "settings")
	if err != nil {
		return Settings{}, nil, err
	}
	var s Settings
	if v, ok := o.raw["workers"]; ok {
		var n float64
		if err := json.Unmarshal(v, &n); err == nil && n == math.Trunc(n) && n >= 1 && n <= MaxWorkers {
			s.Workers = int(n)
		} else {
			o.problem("workers", fmt.Errorf(`"workers" must be a whole number from 1 to %d (JavaScript workers for this project; leave it out for the server's runtime.workers), got %s`, MaxWorkers, v))
		}
	}
	if err := o.err(); err != nil {
		return Settings{}, nil, err
	}
	var warnings []string
	for k := range o.raw {
		if k != "workers" {
			warnings = append(warnings, fmt.Sprintf("%s: unknown field %q is ignored (blimp.json knows \"workers\")", file, k))
		}
	}
	sort.Strings(warnings)
	return s, warnings, nil
}
