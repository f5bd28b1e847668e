package servers

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Kind is how a field's value is written in every encoding.
type Kind string

// The kinds of field.
const (
	KindLines    Kind = "lines"    // a list of strings: one header line each; nil sends none
	KindText     Kind = "text"     // one string; "" is the default
	KindChoice   Kind = "choice"   // one of Field.Choices
	KindInt      Kind = "int"      // a whole number; 0 is the default
	KindBool     Kind = "bool"     // true or false (yes/no, 1/0 are read too)
	KindHeaders  Kind = "headers"  // header lines, Name:Value each (spaces after the colon dropped)
	KindRaw      Kind = "raw"      // header lines, Name:Value each, the value kept exactly
	KindDuration Kind = "duration" // a Go duration such as 1.5s
	KindSection  Kind = "section"  // a nested Policy: its fields under Key + "."
)

// Field describes one field of a struct (Policy here, harness.Request in the
// harness) once, for every encoding: the URL query the API origin reads, the
// lab's share link, the YAML keys of an expectations file and the lab's form.
type Field[T any] struct {
	// Key is the field's name in every encoding, e.g. "allow-origin".
	Key string
	// Go is the Go field name, e.g. "AllowOrigin".
	Go string
	// Label is what the lab's form calls it: the HTTP header it controls, or a short phrase.
	Label string
	// Help is one line for the lab's form.
	Help string
	// Choices are the values a KindChoice field takes; "" (the default) first when allowed.
	Choices []string
	// On says which answer a Policy field is sent on: "preflight", "actual" or "" for both.
	On string
	// Raw keeps a header field's values exactly: no whitespace is dropped.
	Raw bool
	// At returns a pointer to the field in v (*[]string, *string, *int,
	// *bool, *[]Header, *time.Duration or **Policy); with alloc false it
	// returns nil where the field's container is absent.
	At func(v *T, alloc bool) any
}

// Kind is how the field's value is written, from the Go type it points at.
func (f Field[T]) Kind() Kind {
	var zero T
	switch f.At(&zero, true).(type) {
	case *[]string:
		return KindLines
	case *string:
		if len(f.Choices) > 0 {
			return KindChoice
		}
		return KindText
	case *int:
		return KindInt
	case *bool:
		return KindBool
	case *[]Header:
		if f.Raw {
			return KindRaw
		}
		return KindHeaders
	case *time.Duration:
		return KindDuration
	case **Policy:
		return KindSection
	}
	panic("servers: field " + f.Key + " points at an unknown type")
}

// FieldInfo is a field as the lab's page reads it (JSON), so the page has no
// second copy of the table.
type FieldInfo struct {
	Key     string   `json:"key"`
	Label   string   `json:"label"`
	Kind    Kind     `json:"kind"`
	Help    string   `json:"help,omitempty"`
	Choices []string `json:"choices,omitempty"`
	On      string   `json:"on,omitempty"`
}

// Table is the field table of a struct type.
type Table[T any] []Field[T]

// Info describes the table for the lab's form.
func (t Table[T]) Info() []FieldInfo {
	out := make([]FieldInfo, len(t))
	for i, f := range t {
		out[i] = FieldInfo{Key: f.Key, Label: f.Label, Kind: f.Kind(), Help: f.Help, Choices: f.Choices, On: f.On}
	}
	return out
}

// Lookup returns the field named key.
func (t Table[T]) Lookup(key string) (Field[T], bool) {
	i := slices.IndexFunc(t, func(f Field[T]) bool { return f.Key == key })
	if i < 0 {
		return Field[T]{}, false
	}
	return t[i], true
}

// Keys lists the table's keys, in order.
func (t Table[T]) Keys() []string {
	out := make([]string, len(t))
	for i, f := range t {
		out[i] = f.Key
	}
	return out
}

// FieldError says which field is wrong and why.
type FieldError struct {
	Of    string // what the field belongs to: "policy", "request"
	Key   string // the field's key with its prefix, e.g. "preflight.max-age"
	Value string
	Err   error
}

func (e *FieldError) Error() string {
	of := e.Of
	if of == "" {
		of = "a"
	}
	return fmt.Sprintf("%s field %q = %q: %v", of, e.Key, e.Value, e.Err)
}

func (e *FieldError) Unwrap() error { return e.Err }

// Encode writes v's non-default fields into q, each key prefixed with prefix.
func (t Table[T]) Encode(q url.Values, prefix string, v T) {
	for _, f := range t {
		p := f.At(&v, false)
		k := prefix + f.Key
		switch p := p.(type) {
		case *[]string:
			for _, s := range *p {
				q.Add(k, s)
			}
		case *string:
			if *p != "" {
				q.Set(k, *p)
			}
		case *int:
			if *p != 0 {
				q.Set(k, strconv.Itoa(*p))
			}
		case *bool:
			if *p {
				q.Set(k, "1")
			}
		case *[]Header:
			for _, h := range *p {
				q.Add(k, h.Name+":"+h.Value)
			}
		case *time.Duration:
			if *p != 0 {
				q.Set(k, p.String())
			}
		case **Policy:
			if *p != nil {
				sub := url.Values{}
				PolicyFields.Encode(sub, k+".", **p)
				if len(sub) == 0 {
					// An empty section is not an absent one (an empty
					// preflight policy answers with no CORS headers): the
					// bare key says it is there.
					q.Set(k, "")
				}
				for sk, sv := range sub {
					q[sk] = sv
				}
			}
		}
	}
}

// Decode reads the fields under prefix from q into v. A key under prefix that
// names no field is an error, so a typo never silently means "no header";
// keys outside prefix are left for the caller (unless prefix is "", when every
// key must be a field).
func (t Table[T]) Decode(q url.Values, prefix string, v *T) error {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	sections := map[string]bool{}
	for _, key := range keys {
		name, ok := strings.CutPrefix(key, prefix)
		if !ok {
			continue
		}
		head, _, nested := strings.Cut(name, ".")
		f, found := t.Lookup(head)
		if !found {
			return &FieldError{Key: key, Value: strings.Join(q[key], ","), Err: fmt.Errorf("unknown field; known: %s", strings.Join(t.Keys(), ", "))}
		}
		if f.Kind() == KindSection {
			if !nested && (len(q[key]) != 1 || q[key][0] != "") {
				return &FieldError{Key: key, Value: strings.Join(q[key], ","), Err: fmt.Errorf("%s is a section: give its fields as %s.<field> (or %s= alone for an empty one)", head, key, key)}
			}
			sections[head] = true
			continue
		}
		if nested {
			return &FieldError{Key: key, Value: strings.Join(q[key], ","), Err: fmt.Errorf("%s has no fields of its own", head)}
		}
		if err := f.set(v, q[key]); err != nil {
			return &FieldError{Key: key, Value: strings.Join(q[key], ","), Err: err}
		}
	}
	for _, f := range t {
		if !sections[f.Key] {
			continue
		}
		var sub Policy
		if err := PolicyFields.Decode(q, prefix+f.Key+".", &sub); err != nil {
			return err
		}
		*f.At(v, true).(**Policy) = &sub
	}
	return nil
}

// set stores the values given for f into v.
func (f Field[T]) set(v *T, values []string) error {
	single := func() (string, error) {
		if len(values) != 1 {
			return "", fmt.Errorf("given %d times, allowed once", len(values))
		}
		return values[0], nil
	}
	switch p := f.At(v, true).(type) {
	case *[]string:
		*p = slices.Clone(values)
	case *string:
		s, err := single()
		if err != nil {
			return err
		}
		if len(f.Choices) > 0 && !slices.Contains(f.Choices, s) {
			return fmt.Errorf("must be one of %s", quoteAll(f.Choices))
		}
		*p = s
	case *int:
		s, err := single()
		if err != nil {
			return err
		}
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return errors.New("not a whole number")
		}
		*p = n
	case *bool:
		s, err := single()
		if err != nil {
			return err
		}
		b, err := ParseBool(s)
		if err != nil {
			return err
		}
		*p = b
	case *[]Header:
		*p = nil
		for _, s := range values {
			h, err := ParseHeader(s)
			if f.Raw {
				h, err = parseRawHeader(s)
			}
			if err != nil {
				return err
			}
			*p = append(*p, h)
		}
	case *time.Duration:
		s, err := single()
		if err != nil {
			return err
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("not a duration such as 1.5s: %w", err)
		}
		*p = d
	}
	return nil
}

// ParseBool reads true, false, yes, no, 1 or 0 (any case).
func ParseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "yes", "1", "on":
		return true, nil
	case "false", "no", "0", "off":
		return false, nil
	}
	return false, errors.New("must be yes or no (true or false)")
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}

// CheckChoice reports whether value is one of the choices of the field key.
func (t Table[T]) CheckChoice(key, value string) error {
	f, ok := t.Lookup(key)
	if !ok || len(f.Choices) == 0 || slices.Contains(f.Choices, value) {
		return nil
	}
	return fmt.Errorf("must be one of %s", quoteAll(f.Choices))
}

// parseRawHeader reads "Name:Value" keeping the value exactly.
func parseRawHeader(s string) (Header, error) {
	n, val, ok := strings.Cut(s, ":")
	if !ok {
		return Header{}, fmt.Errorf("%q is not Name:Value", s)
	}
	return Header{Name: strings.TrimSpace(n), Value: val}, nil
}
