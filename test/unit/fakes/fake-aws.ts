import type { AwsCredentials, AwsServices, InstanceConnect, RdsTokenRequest } from '../../../src/aws/aws-services.js';

/** One answer of Secrets Manager: the SecretString, or a failure. */
export type SecretAnswer = { readonly text: string } | { readonly error: Error };

/**
 * AwsServices without AWS: Secrets Manager answers from a script (the last answer repeats),
 * tokens are signed as `token-N`, and every call is recorded.
 */
export class FakeAwsServices implements AwsServices {
  readonly secretRequests: { readonly region: string; readonly secretId: string }[] = [];
  readonly signed: RdsTokenRequest[] = [];
  readonly #secrets: SecretAnswer[];

  constructor(...secrets: SecretAnswer[]) {
    this.#secrets = secrets;
  }

  /** Adds answers for the next fetches. */
  answer(...secrets: SecretAnswer[]): void {
    this.#secrets.push(...secrets);
  }

  credentials(): Promise<AwsCredentials> {
    return Promise.resolve({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'not-a-secret' });
  }

  signRdsToken(request: RdsTokenRequest): Promise<string> {
    this.signed.push(request);
    return Promise.resolve(`token-${this.signed.length}`);
  }

  getSecret(region: string, secretId: string): Promise<string> {
    this.secretRequests.push({ region, secretId });
    const answer = this.#secrets.length > 1 ? this.#secrets.shift() : this.#secrets[0];
    if (answer === undefined) return Promise.reject(new Error('ResourceNotFoundException: Secrets Manager can’t find the specified secret.'));
    return 'error' in answer ? Promise.reject(answer.error) : Promise.resolve(answer.text);
  }

  instanceConnect(): InstanceConnect {
    return { sendSshPublicKey: () => Promise.reject(new Error('EC2 Instance Connect is not part of this fake')) };
  }
}

/** A secret as RDS stores it. */
export function secretJson(fields: Record<string, unknown>): SecretAnswer {
  return { text: JSON.stringify(fields) };
}
