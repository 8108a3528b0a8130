package jobs_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/atlas-ai/atlas-learn/jobs"
)

func noEnv(string) string { return "" }

func TestConfigSet(t *testing.T) {
	tests := []struct {
		key, value string
		check      func(c jobs.Config) bool
		wantErr    string
	}{
		{key: "workers", value: "7", check: func(c jobs.Config) bool { return c.Workers == 7 }},
		{key: "s3.path_style", value: "true", check: func(c jobs.Config) bool { return c.S3.PathStyle }},
		{key: "s3.request_timeout", value: "90s", check: func(c jobs.Config) bool { return c.S3.RequestTimeout == 90*time.Second }},
		{key: "on_error", value: "skip", check: func(c jobs.Config) bool { return c.OnError == "skip" }},
		{key: "stages", value: "trajectories, concepts", check: func(c jobs.Config) bool {
			return reflect.DeepEqual(c.Stages, []string{"trajectories", "concepts"})
		}},
		{key: "stages", value: "[trajectories]", check: func(c jobs.Config) bool { return reflect.DeepEqual(c.Stages, []string{"trajectories"}) }},
		{key: "concepts.cost.prim", value: "[map=50,filter=60]", check: func(c jobs.Config) bool {
			return c.Concepts.Cost.Prim["map"] == 50 && c.Concepts.Cost.Prim["filter"] == 60
		}},
		{key: "concepts.max_arity", value: "3", check: func(c jobs.Config) bool { return c.Concepts.MaxArity == 3 }},
		{key: "parquet.jsonl", value: "1", check: func(c jobs.Config) bool { return c.Parquet.JSONL }},
		{key: "no.such.key", value: "1", wantErr: `unknown configuration key "no.such.key"`},
		{key: "s3", value: "x", wantErr: `unknown configuration key "s3"`},
		{key: "workers", value: "many", wantErr: `workers: want an integer, got "many"`},
		{key: "s3.path_style", value: "yes", wantErr: `s3.path_style: want true or false, got "yes"`},
		{key: "s3.request_timeout", value: "soon", wantErr: "s3.request_timeout"},
		{key: "concepts.cost.prim", value: "map", wantErr: "concepts.cost.prim: want NAME=VALUE pairs"},
		{key: "concepts.cost.prim", value: "map=x", wantErr: "concepts.cost.prim: map: want an integer"},
	}
	for _, tc := range tests {
		t.Run(tc.key+"="+tc.value, func(t *testing.T) {
			c, err := jobs.LoadConfig("", noEnv)
			if err != nil {
				t.Fatal(err)
			}
			err = c.Set(tc.key, tc.value)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(c) {
				t.Fatalf("not set: %+v", c)
			}
		})
	}
}

// Every key is settable through its derived environment variable, and
// a bad value names the variable.
func TestConfigEnvironment(t *testing.T) {
	keys := jobs.Keys()
	if len(keys) < 20 {
		t.Fatalf("only %d keys", len(keys))
	}
	seen := map[string]bool{}
	for _, k := range keys {
		if seen[k.Env] {
			t.Fatalf("two keys share %s", k.Env)
		}
		seen[k.Env] = true
		if want := "ATLAS_" + strings.ToUpper(strings.ReplaceAll(k.Name, ".", "_")); k.Env != want {
			t.Fatalf("%s: env %s, want %s", k.Name, k.Env, want)
		}
	}
	env := map[string]string{"ATLAS_WORKERS": "3", "ATLAS_S3_ENDPOINT": "http://127.0.0.1:9", "ATLAS_CONCEPTS_ITERATIONS": "2", "ATLAS_STAGES": "trajectories"}
	c, err := jobs.LoadConfig("", func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c.Workers != 3 || c.S3.Endpoint != "http://127.0.0.1:9" || c.Concepts.Iterations != 2 || len(c.Stages) != 1 {
		t.Fatalf("environment not applied: %+v", c)
	}
	_, err = jobs.LoadConfig("", func(k string) string {
		if k == "ATLAS_S3_PATH_STYLE" {
			return "yes"
		}
		return ""
	})
	if err == nil || !strings.Contains(err.Error(), "ATLAS_S3_PATH_STYLE") {
		t.Fatalf("bad environment value: %v", err)
	}
}

func TestConfigFileAndValidate(t *testing.T) {
	dir := t.TempDir()
	write := func(s string) string {
		p := filepath.Join(dir, "c.yaml")
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		yaml, wantErr string
	}{
		{"concepts:\n  iterations: 3\n", ""},
		{"concepts:\n  itertions: 3\n", "itertions"},
		{"stages: [trajectories, bogus]\n", `unknown stage "bogus"`},
		{"stages: []\n", "stages: name at least one"},
		{"stages: [trajectories, trajectories]\n", "listed twice"},
		{"concepts:\n  max_arity: 9\n", "concepts.max_arity"},
		{"concepts:\n  language: rust\n", "concepts.language"},
		{"concepts:\n  library: ftp://x/y\n", "concepts.library"},
		{"output: s3://\n", "output: location s3://: no bucket name"},
		{"input: \"\"\n", "input: empty location"},
		{"parquet:\n  zstd_level: 7\n", "parquet.zstd_level"},
		{"import:\n  partition: month\n", "import.partition"},
	}
	for _, tc := range tests {
		c, err := jobs.LoadConfig(write(tc.yaml), noEnv)
		if err == nil {
			err = c.Validate()
		}
		if tc.wantErr == "" {
			if err != nil {
				t.Errorf("%q: %v", tc.yaml, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%q: err = %v, want %q", tc.yaml, err, tc.wantErr)
		}
	}
}

// The Kubernetes manifests shipped in configs/k8s parse, their
// configurations load and validate, credentials come from a Secret, and
// the many-worker manifests agree on the number of shards: the Indexed
// Job's completions and parallelism, the map's --shards and the reduce's.
func TestShippedManifests(t *testing.T) {
	files, err := filepath.Glob("../configs/k8s/*.yaml")
	if err != nil || len(files) < 2 {
		t.Fatalf("manifests %v, %v", files, err)
	}
	type container struct {
		Args []string `yaml:"args"`
		Env  []struct {
			Name      string `yaml:"name"`
			ValueFrom struct {
				SecretKeyRef struct {
					Name string `yaml:"name"`
				} `yaml:"secretKeyRef"`
			} `yaml:"valueFrom"`
		} `yaml:"env"`
	}
	type jobSpec struct {
		CompletionMode string `yaml:"completionMode"`
		Completions    int    `yaml:"completions"`
		Parallelism    int    `yaml:"parallelism"`
		Template       struct {
			Spec struct {
				Containers []container `yaml:"containers"`
			} `yaml:"spec"`
		} `yaml:"template"`
	}
	type object struct {
		Kind     string                `yaml:"kind"`
		Metadata struct{ Name string } `yaml:"metadata"`
		Data     map[string]string     `yaml:"data"`
		Spec     struct {
			jobSpec     `yaml:",inline"`
			JobTemplate struct {
				Spec jobSpec `yaml:"spec"`
			} `yaml:"jobTemplate"`
		} `yaml:"spec"`
	}
	flag := func(args []string, name string) (string, bool) {
		for i, a := range args {
			if a == name && i+1 < len(args) {
				return args[i+1], true
			}
			if a == name {
				return "", true
			}
		}
		return "", false
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			f, err := os.Open(file)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			dec := yaml.NewDecoder(f)
			var configs, containers int
			mapShards, reduceShards, indexed := "", "", 0
			for {
				var o object
				if err := dec.Decode(&o); err == io.EOF {
					break
				} else if err != nil {
					t.Fatalf("%s: %v", file, err)
				}
				switch o.Kind {
				case "ConfigMap":
					for name, body := range o.Data {
						p := filepath.Join(t.TempDir(), name)
						os.WriteFile(p, []byte(body), 0o644)
						c, err := jobs.LoadConfig(p, noEnv)
						if err == nil {
							err = c.Validate()
						}
						if err != nil {
							t.Fatalf("ConfigMap %s, %s: %v", o.Metadata.Name, name, err)
						}
						if c.Output != "s3://atlas/nightly" || len(c.Stages) != len(jobs.StageNames()) || !c.Sandbox.RequireIsolation {
							t.Fatalf("ConfigMap %s: loaded %+v", o.Metadata.Name, c)
						}
						configs++
					}
				case "Job", "CronJob":
					spec := o.Spec.jobSpec
					if o.Kind == "CronJob" {
						spec = o.Spec.JobTemplate.Spec
					}
					for _, c := range spec.Template.Spec.Containers {
						containers++
						if len(c.Args) == 0 || c.Args[0] != "run" {
							t.Fatalf("%s %s: args %v", o.Kind, o.Metadata.Name, c.Args)
						}
						secrets := 0
						for _, e := range c.Env {
							if strings.HasPrefix(e.Name, "AWS_") && e.ValueFrom.SecretKeyRef.Name != "" {
								secrets++
							}
						}
						if secrets != 2 {
							t.Fatalf("%s %s: credentials not from a Secret", o.Kind, o.Metadata.Name)
						}
						n, hasShards := flag(c.Args, "--shards")
						_, isReduce := flag(c.Args, "--reduce")
						switch {
						case isReduce:
							reduceShards = n
						case hasShards:
							mapShards = n
							if spec.CompletionMode != "Indexed" || fmt.Sprint(spec.Completions) != n || fmt.Sprint(spec.Parallelism) != n {
								t.Fatalf("map %s: completionMode %q, completions %d, parallelism %d, --shards %s", o.Metadata.Name, spec.CompletionMode, spec.Completions, spec.Parallelism, n)
							}
							indexed++
						}
					}
				}
			}
			if configs == 0 || containers == 0 {
				t.Fatalf("%d configurations and %d job containers", configs, containers)
			}
			if (mapShards != "" || reduceShards != "") && (mapShards != reduceShards || indexed != 1) {
				t.Fatalf("map --shards %q (%d Indexed Jobs), reduce --shards %q", mapShards, indexed, reduceShards)
			}
		})
	}
}

// Every setting that shapes the outputs changes the run's id (and so its
// file names); settings that only change speed do not.
func TestRunIDCoversSettings(t *testing.T) {
	in := t.TempDir()
	if err := os.WriteFile(filepath.Join(in, "x.jsonl"), []byte(`{"schema_version":1,"trajectory_id":"a","task":{"id":"t","description":"d","domain":"x"},"agent":{"name":"","model":""},"steps":[],"outcome":{"success":false,"reward":0},"solution":{},"created_at":"2026-01-01T00:00:00Z"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	id := func(set ...string) string {
		t.Helper()
		c, err := jobs.LoadConfig("", noEnv)
		if err != nil {
			t.Fatal(err)
		}
		c.Input, c.Output = in, t.TempDir()
		for _, kv := range set {
			k, v, _ := strings.Cut(kv, "=")
			if err := c.Set(k, v); err != nil {
				t.Fatal(err)
			}
		}
		res, err := jobs.Run(context.Background(), c, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		return res.RunDir
	}
	base := id()
	for _, kv := range []string{"analysis.weights.sampling=7", "patterns.depth=3", "sandbox.max_memory_mib=512", "analysis.max_replays=3", "llm.temperature=0.5", "concepts.iterations=2"} {
		if id(kv) == base {
			t.Errorf("%s does not change the run id", kv)
		}
	}
	for _, kv := range []string{"workers=1", "concepts.workers=3", "concepts.shards=5", "sandbox.warm=false", "analysis.http.concurrency=2", "llm.max_concurrency=9"} {
		if id(kv) != base {
			t.Errorf("%s changes the run id", kv)
		}
	}
}
