package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"
)

// manifest is the part of a krew Plugin manifest the tests look at.
type manifest struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		Version          string `json:"version"`
		Homepage         string `json:"homepage"`
		ShortDescription string `json:"shortDescription"`
		Description      string `json:"description"`
		Caveats          string `json:"caveats"`
		Platforms        []struct {
			Selector struct {
				MatchLabels map[string]string `json:"matchLabels"`
			} `json:"selector"`
			URI    string `json:"uri"`
			Sha256 string `json:"sha256"`
			Files  []struct {
				From string `json:"from"`
				To   string `json:"to"`
			} `json:"files"`
			Bin string `json:"bin"`
		} `json:"platforms"`
	} `json:"spec"`
}

func fakeSha(url string) string {
	return fmt.Sprintf("%064x", len(url))[:56] + "deadbeef"
}

func TestTemplateRendersOnePlatformPerArchive(t *testing.T) {
	text, err := os.ReadFile("../../krew/.krew.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var urls []string
	out, err := Render(string(text), "v1.2.3", func(url string) (string, string, error) {
		urls = append(urls, url)
		return url, fakeSha(url), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var m manifest
	if err := yaml.UnmarshalStrict(StripLeadingComments(out), &m); err != nil {
		t.Fatalf("rendered template is not a manifest: %v\n%s", err, out)
	}
	if m.APIVersion != "krew.googlecontainertools.github.com/v1alpha2" || m.Kind != "Plugin" || m.Metadata.Name != "sparkha" {
		t.Errorf("apiVersion/kind/name = %s/%s/%s", m.APIVersion, m.Kind, m.Metadata.Name)
	}
	if m.Spec.Version != "v1.2.3" || m.Spec.Homepage != "https://github.com/kubectl-sparkha/kubectl-sparkha" {
		t.Errorf("version %q, homepage %q", m.Spec.Version, m.Spec.Homepage)
	}
	for _, want := range []string{"create jobs", "update nodes", "selfsubjectreviews", "docs/rbac.yaml", "volumeattachments",
		"kubectl_complete-sparkha", "krew/issues/812", "store/sparkha/v1.2.3/"} {
		if !strings.Contains(m.Spec.Caveats, want) {
			t.Errorf("caveats lack %q", want)
		}
	}
	if len(m.Spec.Platforms) != len(Platforms) {
		t.Fatalf("%d platforms, want %d", len(m.Spec.Platforms), len(Platforms))
	}
	for i, p := range Platforms {
		got := m.Spec.Platforms[i]
		name := ArchiveName("v1.2.3", p)
		if want := "https://github.com/kubectl-sparkha/kubectl-sparkha/releases/download/v1.2.3/" + name; urls[i] != want || got.URI != want {
			t.Errorf("platform %d: url %s, uri %s, want %s", i, urls[i], got.URI, want)
		}
		if got.Sha256 != fakeSha(urls[i]) {
			t.Errorf("platform %d: sha256 %q", i, got.Sha256)
		}
		if got.Selector.MatchLabels["os"] != p.OS || got.Selector.MatchLabels["arch"] != p.Arch || len(got.Selector.MatchLabels) != 2 {
			t.Errorf("platform %d: selector %v, want %s/%s", i, got.Selector.MatchLabels, p.OS, p.Arch)
		}
		exe := ""
		if p.OS == "windows" {
			exe = ".exe"
		}
		var from []string
		for _, f := range got.Files {
			from = append(from, f.From+"->"+f.To)
		}
		if want := "kubectl-sparkha" + exe + "->. kubectl_complete-sparkha" + exe + "->. LICENSE->."; strings.Join(from, " ") != want {
			t.Errorf("platform %d: files %v, want %s", i, from, want)
		}
		if got.Bin != "kubectl-sparkha"+exe {
			t.Errorf("platform %d: bin %q", i, got.Bin)
		}
	}
}

// krew/sparkha.yaml must be exactly what the template renders for its version, with the
// release URLs: it is edited through the template only.
func TestCommittedManifestMatchesTemplate(t *testing.T) {
	committed, err := os.ReadFile("../../krew/sparkha.yaml")
	if err != nil {
		t.Fatal(err)
	}
	text, err := os.ReadFile("../../krew/.krew.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var m manifest
	if err := yaml.Unmarshal(committed, &m); err != nil {
		t.Fatal(err)
	}
	if err := checkVersion(m.Spec.Version); err != nil {
		t.Fatal(err)
	}
	shas := map[string]string{}
	for _, p := range m.Spec.Platforms {
		shas[p.URI] = p.Sha256
	}
	out, err := Render(string(text), m.Spec.Version, func(url string) (string, string, error) {
		if shas[url] == "" {
			return "", "", fmt.Errorf("krew/sparkha.yaml has no platform with uri %s", url)
		}
		return url, shas[url], nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(StripLeadingComments(committed)), string(StripLeadingComments(out)); got != want {
		t.Errorf("krew/sparkha.yaml differs from krew/.krew.yaml rendered for %s: run make krew-release-manifest VERSION=%s\n--- got\n%s\n--- want\n%s",
			m.Spec.Version, m.Spec.Version, got, want)
	}
	sha := regexp.MustCompile(`^[0-9a-f]{64}$`)
	for uri, s := range shas {
		if !sha.MatchString(s) {
			t.Errorf("%s: sha256 %q is not 64 lowercase hex digits", uri, s)
		}
	}
}

func TestTarGzIsReproducibleWithExecutableBinaries(t *testing.T) {
	files := []File{
		{Name: "kubectl-sparkha", Mode: 0o755, Content: []byte("binary")},
		{Name: "kubectl_complete-sparkha", Mode: 0o755, Content: []byte("shim")},
		{Name: "LICENSE", Mode: 0o644, Content: []byte("Apache License")},
	}
	mtime := time.Unix(1700000000, 0)
	a, err := TarGz(files, mtime)
	if err != nil {
		t.Fatal(err)
	}
	b, err := TarGz(files, mtime)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Error("the same files gave different archives")
	}
	gz, err := gzip.NewReader(bytes.NewReader(a))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	var got []string
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		content, _ := io.ReadAll(tr)
		got = append(got, fmt.Sprintf("%s %o %d/%d %s %s", hdr.Name, hdr.Mode, hdr.Uid, hdr.Gid, hdr.ModTime.UTC().Format(time.RFC3339), content))
	}
	want := []string{
		"kubectl-sparkha 755 0/0 2023-11-14T22:13:20Z binary",
		"kubectl_complete-sparkha 755 0/0 2023-11-14T22:13:20Z shim",
		"LICENSE 644 0/0 2023-11-14T22:13:20Z Apache License",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("archive holds\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestCheckVersion(t *testing.T) {
	for v, ok := range map[string]bool{
		"v0.1.0": true, "v1.2.3-rc.1": true, "v0.0.0-dev-4f81e4b-dirty": true, "v0.1.0-3-g4f81e4b": true,
		"0.1.0": false, "4f81e4b-dirty": false, "dev": false, "v1.2": false, "v01.2.3": false,
	} {
		if err := checkVersion(v); (err == nil) != ok {
			t.Errorf("checkVersion(%q) = %v, want ok=%t", v, err, ok)
		}
	}
}

// make krew-test installs only this machine's archive: the manifest it renders keeps that
// platform alone, intact.
func TestKeepPlatformsLeavesOnlyTheHost(t *testing.T) {
	text, err := os.ReadFile("../../krew/.krew.yaml")
	if err != nil {
		t.Fatal(err)
	}
	out, err := Render(string(text), "v1.2.3", func(url string) (string, string, error) { return url, fakeSha(url), nil })
	if err != nil {
		t.Fatal(err)
	}
	host, err := selectPlatforms("host")
	if err != nil || len(host) != 1 || host[0].OS != runtime.GOOS || host[0].Arch != runtime.GOARCH {
		t.Fatalf("host platforms %v, %v", host, err)
	}
	var m manifest
	if err := yaml.UnmarshalStrict(StripLeadingComments(KeepPlatforms(out, "v1.2.3", host)), &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Spec.Platforms) != 1 || m.Spec.Platforms[0].Selector.MatchLabels["os"] != runtime.GOOS ||
		m.Spec.Platforms[0].Selector.MatchLabels["arch"] != runtime.GOARCH ||
		!strings.HasSuffix(m.Spec.Platforms[0].URI, "/"+ArchiveName("v1.2.3", host[0])) || m.Spec.Platforms[0].Bin == "" {
		t.Errorf("platforms %+v", m.Spec.Platforms)
	}
	if m.Spec.Caveats == "" || m.Spec.Version != "v1.2.3" {
		t.Error("the rest of the manifest is lost")
	}
	if all, _ := selectPlatforms("all"); len(all) != 6 {
		t.Errorf("all: %d platforms", len(all))
	}
	if _, err := selectPlatforms("plan9/386"); err == nil {
		t.Error("plan9/386: want an error")
	}
}
