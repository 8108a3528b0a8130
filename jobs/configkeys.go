package jobs

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
)

// A configuration key is declared once, as the YAML tag of a field of
// Config (dotted through its sections: "s3.endpoint"). Everything else is
// derived from the tags: the keys --set accepts, the ATLAS_* environment
// variables (ATLAS_ + the key upper-cased, dots as underscores:
// ATLAS_S3_ENDPOINT), and the parsing of their text values.

// Key is one configuration key.
type Key struct {
	// Name is the dotted YAML path ("concepts.max_arity").
	Name string
	// Env is the environment variable that sets it.
	Env string
	// Type is the value's type, for help texts ("int", "bool", ...).
	Type  string
	index []int
}

// Keys lists every configuration key, sorted by name.
func Keys() []Key {
	var out []Key
	collectKeys(reflect.TypeOf(Config{}), "", nil, &out)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

var durationType = reflect.TypeOf(time.Duration(0))

// isLeaf tells types set from one text value rather than walked as a
// section.
func isLeaf(t reflect.Type) bool {
	return t.Kind() != reflect.Struct || t == durationType
}

func collectKeys(t reflect.Type, prefix string, index []int, out *[]Key) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if tag == "" || tag == "-" || !f.IsExported() {
			continue
		}
		name := tag
		if prefix != "" {
			name = prefix + "." + tag
		}
		idx := append(append([]int(nil), index...), i)
		if isLeaf(f.Type) {
			*out = append(*out, Key{Name: name, Env: envName(name), Type: typeName(f.Type), index: idx})
			continue
		}
		collectKeys(f.Type, name, idx, out)
	}
}

func envName(key string) string {
	return "ATLAS_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

func typeName(t reflect.Type) string {
	switch {
	case t == durationType:
		return "duration"
	case t.Kind() == reflect.Slice:
		return "list"
	case t.Kind() == reflect.Map:
		return "map"
	}
	return t.Kind().String()
}

// lookupKey finds a key by name.
func lookupKey(name string) (Key, bool) {
	for _, k := range Keys() {
		if k.Name == name {
			return k, true
		}
	}
	return Key{}, false
}

// Set sets one key (as named in the YAML, dotted) from text. Lists are
// comma-separated ("trajectories,concepts"); maps are NAME=VALUE pairs,
// comma-separated. An unknown key or a value that does not parse is an
// error naming the key.
func (c *Config) Set(key, text string) error {
	k, ok := lookupKey(key)
	if !ok {
		return fmt.Errorf("unknown configuration key %q", key)
	}
	v := reflect.ValueOf(c).Elem().FieldByIndex(k.index)
	if err := setText(v, text); err != nil {
		return fmt.Errorf("%s: %w", key, err)
	}
	return nil
}

func setText(v reflect.Value, text string) error {
	if v.Type() == durationType {
		d, err := time.ParseDuration(text)
		if err != nil {
			return err
		}
		v.SetInt(int64(d))
		return nil
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(text)
	case reflect.Bool:
		b, err := strconv.ParseBool(text)
		if err != nil {
			return fmt.Errorf("want true or false, got %q", text)
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(text, 10, v.Type().Bits())
		if err != nil {
			return fmt.Errorf("want an integer, got %q", text)
		}
		v.SetInt(n)
	case reflect.Uint, reflect.Uint32, reflect.Uint64:
		n, err := strconv.ParseUint(text, 10, v.Type().Bits())
		if err != nil {
			return fmt.Errorf("want a non-negative integer, got %q", text)
		}
		v.SetUint(n)
	case reflect.Float64:
		f, err := strconv.ParseFloat(text, 64)
		if err != nil {
			return fmt.Errorf("want a number, got %q", text)
		}
		v.SetFloat(f)
	case reflect.Slice:
		if v.Type().Elem().Kind() != reflect.String {
			return fmt.Errorf("unsupported list type %s", v.Type())
		}
		var items []string
		for _, s := range strings.Split(strings.Trim(text, "[]"), ",") {
			if s = strings.TrimSpace(s); s != "" {
				items = append(items, s)
			}
		}
		out := reflect.MakeSlice(v.Type(), len(items), len(items))
		for i, s := range items {
			out.Index(i).SetString(s)
		}
		v.Set(out)
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String {
			return fmt.Errorf("unsupported map type %s", v.Type())
		}
		m := reflect.MakeMap(v.Type())
		for _, pair := range strings.Split(strings.Trim(text, "[]"), ",") {
			if pair = strings.TrimSpace(pair); pair == "" {
				continue
			}
			name, val, ok := strings.Cut(pair, "=")
			if !ok {
				return fmt.Errorf("want NAME=VALUE pairs, got %q", pair)
			}
			e := reflect.New(v.Type().Elem()).Elem()
			if err := setText(e, val); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			m.SetMapIndex(reflect.ValueOf(name), e)
		}
		v.Set(m)
	default:
		return fmt.Errorf("unsupported type %s", v.Type())
	}
	return nil
}

// applyEnv sets every key whose environment variable is set (non-empty).
func (c *Config) applyEnv(getenv func(string) string) error {
	for _, k := range Keys() {
		text := getenv(k.Env)
		if text == "" {
			continue
		}
		if err := c.Set(k.Name, text); err != nil {
			return fmt.Errorf("environment variable %s: %w", k.Env, err)
		}
	}
	return nil
}
