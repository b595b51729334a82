// Command release builds the release archives of kubectl-sparkha and renders its krew
// manifest. The Makefile runs it; see `make dist` and `make krew-manifest`.
//
//	go run ./hack/release dist -version v0.1.0 -ldflags '-s -w -X ...' -dir dist
//	go run ./hack/release krew-manifest -version v0.1.0 -dir dist -template krew/.krew.yaml -o dist/sparkha.yaml
//
// dist cross-compiles kubectl-sparkha and kubectl_complete-sparkha for every platform krew
// installs on and packs each pair with LICENSE into dist/kubectl-sparkha_VERSION_OS_ARCH.tar.gz,
// then writes dist/checksums.txt (sha256sum format). The archives are reproducible: files in a
// fixed order, owner root, modification time SOURCE_DATE_EPOCH (default: the last commit's time).
//
// krew-manifest renders the krew-release-bot template krew/.krew.yaml the way the bot does, but
// takes each archive's sha256 from the local dist directory instead of downloading it, and
// rewrites the GitHub release URL to -uri-base (default: file:// URLs of the local archives).
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"text/template"
	"time"
)

// Platform is one GOOS/GOARCH pair of the release.
type Platform struct{ OS, Arch string }

// Platforms are the release targets, in the order of the manifest.
var Platforms = []Platform{
	{"linux", "amd64"}, {"linux", "arm64"},
	{"darwin", "amd64"}, {"darwin", "arm64"},
	{"windows", "amd64"}, {"windows", "arm64"},
}

// selectPlatforms parses -platforms: "all" (the release), "host" (the machine's GOOS/GOARCH,
// for a quick local install test) or a comma-separated list of OS/ARCH of the release.
func selectPlatforms(spec string) ([]Platform, error) {
	switch spec {
	case "", "all":
		return Platforms, nil
	case "host":
		spec = runtime.GOOS + "/" + runtime.GOARCH
	}
	var out []Platform
	for _, s := range strings.Split(spec, ",") {
		found := false
		for _, p := range Platforms {
			if s == p.OS+"/"+p.Arch {
				out, found = append(out, p), true
			}
		}
		if !found {
			return nil, fmt.Errorf("-platforms: %q is not a release platform (use all, host, or OS/ARCH of linux, darwin, windows and amd64, arm64)", s)
		}
	}
	return out, nil
}

// Binaries are the commands shipped in every archive, by package.
var Binaries = []struct{ Name, Package string }{
	{"kubectl-sparkha", "./cmd/kubectl-sparkha"},
	{"kubectl_complete-sparkha", "./cmd/kubectl_complete-sparkha"},
}

// ArchiveName is the file name of the archive of one platform; the release URLs of
// krew/.krew.yaml use the same pattern.
func ArchiveName(version string, p Platform) string {
	return fmt.Sprintf("kubectl-sparkha_%s_%s_%s.tar.gz", version, p.OS, p.Arch)
}

// krew parses spec.version as a semantic version with a leading v.
var semverRE = regexp.MustCompile(`^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$`)

func checkVersion(v string) error {
	if !semverRE.MatchString(v) {
		return fmt.Errorf("version %q is not a semantic version vMAJOR.MINOR.PATCH[-PRERELEASE]: krew refuses it (set VERSION=v0.1.0)", v)
	}
	return nil
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: release dist|krew-manifest [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "dist":
		err = runDist(os.Args[2:])
	case "krew-manifest":
		err = runManifest(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q: use dist or krew-manifest", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "release:", err)
		os.Exit(1)
	}
}

func runDist(args []string) error {
	fs := flag.NewFlagSet("dist", flag.ExitOnError)
	version := fs.String("version", "", "version of the release (vX.Y.Z[-PRE]); names the archives")
	ldflags := fs.String("ldflags", "", "-ldflags of go build (the Makefile's LDFLAGS, which stamp version, commit and date)")
	dir := fs.String("dir", "dist", "output directory")
	license := fs.String("license", "LICENSE", "license file put in every archive")
	platformsFlag := fs.String("platforms", "all", "all, host (this machine's GOOS/GOARCH only) or OS/ARCH,...")
	_ = fs.Parse(args)
	platforms, err := selectPlatforms(*platformsFlag)
	if err != nil {
		return err
	}
	if err := checkVersion(*version); err != nil {
		return err
	}
	if !strings.Contains(*ldflags, ".Version="+*version) {
		return fmt.Errorf("-ldflags does not stamp version %s: %q", *version, *ldflags)
	}
	licenseText, err := os.ReadFile(*license)
	if err != nil {
		return err
	}
	mtime, err := sourceDate()
	if err != nil {
		return err
	}
	if err := os.RemoveAll(*dir); err != nil {
		return err
	}
	build := filepath.Join(*dir, "build")
	if err := os.MkdirAll(build, 0o755); err != nil {
		return err
	}
	var sums []string
	for _, p := range platforms {
		var files []File
		for _, b := range Binaries {
			name := b.Name
			if p.OS == "windows" {
				name += ".exe"
			}
			out := filepath.Join(build, p.OS+"_"+p.Arch, name)
			began := time.Now()
			cmd := exec.Command("go", "build", "-trimpath", "-ldflags="+*ldflags, "-o", out, b.Package)
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+p.OS, "GOARCH="+p.Arch)
			cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
			if err := cmd.Run(); err != nil {
				return fmt.Errorf("go build %s for %s/%s: %w", b.Package, p.OS, p.Arch, err)
			}
			content, err := os.ReadFile(out)
			if err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "built %s/%s %s (%.1f MiB, %.1fs)\n", p.OS, p.Arch, name,
				float64(len(content))/(1<<20), time.Since(began).Seconds())
			files = append(files, File{Name: name, Mode: 0o755, Content: content})
		}
		files = append(files, File{Name: "LICENSE", Mode: 0o644, Content: licenseText})
		archive, err := TarGz(files, mtime)
		if err != nil {
			return err
		}
		name := ArchiveName(*version, p)
		if err := os.WriteFile(filepath.Join(*dir, name), archive, 0o644); err != nil {
			return err
		}
		sums = append(sums, fmt.Sprintf("%s  %s\n", sha256Hex(archive), name))
		fmt.Fprintf(os.Stderr, "wrote %s\n", filepath.Join(*dir, name))
	}
	if err := os.RemoveAll(build); err != nil {
		return err
	}
	checksums := filepath.Join(*dir, "checksums.txt")
	if err := os.WriteFile(checksums, []byte(strings.Join(sums, "")), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "wrote %s\n", checksums)
	return nil
}

// sourceDate is the modification time of the archived files: SOURCE_DATE_EPOCH
// (reproducible-builds.org), else the time of the last commit, else the Unix epoch.
func sourceDate() (time.Time, error) {
	s := os.Getenv("SOURCE_DATE_EPOCH")
	if s == "" {
		if out, err := exec.Command("git", "log", "-1", "--format=%ct").Output(); err == nil {
			s = strings.TrimSpace(string(out))
		}
	}
	if s == "" {
		return time.Unix(0, 0).UTC(), nil
	}
	sec, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q: %w", s, err)
	}
	return time.Unix(sec, 0).UTC(), nil
}

// File is one entry of an archive.
type File struct {
	Name    string
	Mode    int64
	Content []byte
}

// TarGz packs files, in the given order and at the archive's root, into a gzipped tar whose
// bytes depend only on the files and mtime.
func TarGz(files []File, mtime time.Time) ([]byte, error) {
	var buf bytes.Buffer
	gz, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	tw := tar.NewWriter(gz)
	for _, f := range files {
		hdr := &tar.Header{
			Typeflag: tar.TypeReg,
			Name:     f.Name,
			Mode:     f.Mode,
			Size:     int64(len(f.Content)),
			ModTime:  mtime,
			Format:   tar.FormatUSTAR,
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.Content); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func fileSha256(name string) (string, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func runManifest(args []string) error {
	fs := flag.NewFlagSet("krew-manifest", flag.ExitOnError)
	version := fs.String("version", "", "release tag (vX.Y.Z[-PRE]), the bot's .TagName")
	dir := fs.String("dir", "dist", "directory holding the archives of `release dist`")
	tmpl := fs.String("template", "krew/.krew.yaml", "krew-release-bot template")
	uriBase := fs.String("uri-base", "", "base URL of the archives in the manifest (default: file:// URL of -dir; use the GitHub release URL for krew-index)")
	out := fs.String("o", "", "output file (default: stdout)")
	platformsFlag := fs.String("platforms", "all", "all, or host / OS/ARCH,...: the manifest lists only these platforms (for a local install test)")
	_ = fs.Parse(args)
	platforms, err := selectPlatforms(*platformsFlag)
	if err != nil {
		return err
	}
	if err := checkVersion(*version); err != nil {
		return err
	}
	text, err := os.ReadFile(*tmpl)
	if err != nil {
		return err
	}
	base := *uriBase
	if base == "" {
		abs, err := filepath.Abs(*dir)
		if err != nil {
			return err
		}
		base = "file://" + filepath.ToSlash(abs)
		if !strings.HasPrefix(base, "file:///") { // Windows: file:///C:/...
			base = "file:///" + strings.TrimPrefix(base, "file://")
		}
	}
	manifest, err := Render(string(text), *version, func(uri string) (string, string, error) {
		name := path.Base(uri)
		if !wanted(platforms, *version, name) {
			return uri, strings.Repeat("0", 64), nil // dropped below
		}
		sum, err := fileSha256(filepath.Join(*dir, name))
		if err != nil {
			return "", "", fmt.Errorf("%s: %w (run make dist first)", uri, err)
		}
		return strings.TrimSuffix(base, "/") + "/" + name, sum, nil
	})
	if err != nil {
		return err
	}
	if len(platforms) < len(Platforms) {
		manifest = KeepPlatforms(manifest, *version, platforms)
	}
	manifest = append([]byte("# Generated by hack/release from "+filepath.ToSlash(*tmpl)+" for "+*version+
		"; edit the template, not this file.\n"), StripLeadingComments(manifest)...)
	if *out == "" {
		_, err = os.Stdout.Write(manifest)
		return err
	}
	if err := os.WriteFile(*out, manifest, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "wrote %s\n", *out)
	return nil
}

func wanted(platforms []Platform, version, archive string) bool {
	for _, p := range platforms {
		if ArchiveName(version, p) == archive {
			return true
		}
	}
	return false
}

// KeepPlatforms drops from a rendered manifest the entries of spec.platforms ("  - selector:"
// blocks) whose archive is not one of platforms.
func KeepPlatforms(manifest []byte, version string, platforms []Platform) []byte {
	const entry = "\n  - selector:"
	parts := strings.Split(string(manifest), entry)
	out := parts[0]
	for _, block := range parts[1:] {
		for _, p := range platforms {
			if strings.Contains(block, "/"+ArchiveName(version, p)+"\n") {
				out += entry + block
				break
			}
		}
	}
	if !strings.HasSuffix(out, "\n") {
		out += "\n"
	}
	return []byte(out)
}

// Render executes a krew-release-bot template (.krew.yaml) for tag. It offers the bot's
// functions: addURIAndSha URL TAG prints "uri: ...\n    sha256: ..." (four spaces, as the bot
// does) and indent. resolve maps the release URL to the manifest's URI and the archive's sha256.
func Render(text, tag string, resolve func(url string) (uri, sha256 string, err error)) ([]byte, error) {
	values := struct{ TagName, Version string }{tag, strings.TrimPrefix(tag, "v")}
	var resolveErr error
	t, err := template.New(".krew.yaml").Funcs(template.FuncMap{
		"addURIAndSha": func(url, tag string) (string, error) {
			u, err := template.New("url").Parse(url)
			if err != nil {
				return "", err
			}
			var buf bytes.Buffer
			if err := u.Execute(&buf, struct{ TagName, Version string }{tag, strings.TrimPrefix(tag, "v")}); err != nil {
				return "", err
			}
			uri, sum, err := resolve(buf.String())
			if err != nil {
				resolveErr = errors.Join(resolveErr, err)
				return "", err
			}
			return fmt.Sprintf("uri: %s\n    sha256: %s", uri, sum), nil
		},
		"indent": func(spaces int, v string) string {
			v = strings.ReplaceAll(v, "    sha256:", "sha256:")
			pad := strings.Repeat(" ", spaces)
			return strings.TrimSpace(pad + strings.ReplaceAll(v, "\n", "\n"+pad))
		},
	}).Parse(text)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, values); err != nil {
		if resolveErr != nil {
			return nil, resolveErr
		}
		return nil, err
	}
	return buf.Bytes(), nil
}

// StripLeadingComments drops the comment lines at the top of a rendered template.
func StripLeadingComments(b []byte) []byte {
	for bytes.HasPrefix(b, []byte("#")) {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			return nil
		}
		b = b[i+1:]
	}
	return b
}
