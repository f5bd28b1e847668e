package firefox

import (
	"context"
	"encoding/base64"
	"fmt"
)

// trustScript imports one certificate into the profile's NSS database as a
// trust anchor for TLS servers only ("CT,,": no e-mail or code signing), from
// the chrome scope, and returns its SHA-256 fingerprint. The database is the
// profile's own, removed with it on Close: nothing else is trusted, and no
// certificate error is ever ignored.
const trustScript = `(() => {
  const db = Cc["@mozilla.org/security/x509certdb;1"].getService(Ci.nsIX509CertDB);
  const cert = db.addCertFromBase64(%q, "CT,,");
  return cert.sha256Fingerprint;
})()`

// trust makes Firefox trust exactly der (the origins' self-signed certificate).
func (b *browser) trust(ctx context.Context, der []byte) error {
	if _, err := b.chromeEval(ctx, fmt.Sprintf(trustScript, base64.StdEncoding.EncodeToString(der))); err != nil {
		return fmt.Errorf("trust the origins' certificate: %w", err)
	}
	return nil
}
