// Package blimp holds what the binary embeds from the repository root: the default
// configuration file, so that the documented defaults and the running ones are the
// same bytes.
package blimp

import _ "embed"

// DefaultConfig is config.toml at the repository root: every key with its default.
//
//go:embed config.toml
var DefaultConfig []byte
