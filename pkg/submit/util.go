package submit

import (
	"crypto/rand"
	"encoding/hex"
	"sort"
)

func sortStrings(s []string) { sort.Strings(s) }

// NewAppID returns a Spark application ID as spark-submit generates it
// (KubernetesConf.getKubernetesAppId): "spark-" and a random UUID without dashes.
func NewAppID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	b[6] = (b[6] & 0x0f) | 0x40 // UUID version 4
	b[8] = (b[8] & 0x3f) | 0x80 // RFC 4122 variant
	return "spark-" + hex.EncodeToString(b[:])
}
