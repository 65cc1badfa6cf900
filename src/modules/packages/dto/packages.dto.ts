import { ApiProperty } from '@nestjs/swagger';
import { IsBase64, IsDefined, IsObject, IsOptional, IsString, IsUUID, Matches } from 'class-validator';
import { EXAMPLE_DEFINITION } from '../../workflows/dto/workflow.dto';

const EXAMPLE_WPK = {
  name: 'order-automation',
  version: '1.2.0',
  description: 'Order intake and approval',
  workflows: [{ key: 'intake', name: 'Order intake', definition: EXAMPLE_DEFINITION }],
};

export class PackDto {
  /** The WPK manifest `{name, version, description?, workflows: [{key, name, description?, definition, input_schema?}]}` (docs/packages.md). */
  @ApiProperty({ type: 'object', additionalProperties: true, example: EXAMPLE_WPK })
  @IsDefined()
  @IsObject()
  wpk: Record<string, unknown>;
}

export class ArtifactIdDto {
  @IsUUID()
  artifact_id: string;
}

export class ImportDto {
  /** The `.tar.gz` artifact, base64 (as packed by a Conflux deployment; the JSON body limit applies). */
  @IsString()
  @IsBase64()
  artifact: string;

  /** Its base64 Ed25519 signature, made elsewhere over the signing payload (docs/packages.md). */
  @IsOptional()
  @IsString()
  @IsBase64()
  signature?: string;

  /** The signer's key id (`ed25519:<32 hex>`); without it, deploy tries every trusted key. */
  @IsOptional()
  @Matches(/^ed25519:[0-9a-f]{32}$/)
  key_id?: string;
}

export class PackResponse {
  artifact_id: string;
  /** Hex SHA-256 of the artifact's bytes: the same manifest always packs to the same digest. */
  sha256: string;
  /** Bytes. */
  size: number;
  name: string;
  version: string;
  /** False when the tenant already had an artifact with these bytes (this is it). */
  created: boolean;
}

export class SignResponse {
  /** Always true. */
  signed: boolean;
  /** Base64 Ed25519 signature over the signing payload. */
  signature: string;
  /** Fingerprint of the deployment's public key. */
  key_id: string;
  artifact_id: string;
  sha256: string;
}

export class DeployedWorkflow {
  /** The workflow's key in the package. */
  key: string;
  workflow_id: string;
  name: string;
  version: number;
  /** False when this version was already installed from this package digest. */
  installed: boolean;
}

export class DeployResponse {
  artifact_id: string;
  sha256: string;
  name: string;
  version: string;
  /** The trusted key the signature verified against. */
  key_id: string;
  deployed_at: string;
  /** True when nothing changed: every workflow was already installed from this digest. */
  already_deployed: boolean;
  workflows: DeployedWorkflow[];
}

export class ArtifactResponse {
  id: string;
  name: string;
  version: string;
  description: string;
  sha256: string;
  size: number;
  signed: boolean;
  key_id: string | null;
  signed_at: string | null;
  /** The storage path of its bytes (`packages/<sha256>.tar.gz`), for a signed GET URL. */
  object_path: string;
  workflow_keys: string[];
  created_by: string;
  created_at: string;
  /** When it was first deployed. */
  deployed_at: string | null;
}

export class ArtifactPage {
  items: ArtifactResponse[];
  total: number;
}

export class TrustedKey {
  key_id: string;
  /** SPKI PEM: what another deployment lists in WPK_TRUSTED_KEYS. */
  public_key: string;
  /** True for this deployment's own signing key. */
  own: boolean;
}

export class SigningKeysResponse {
  /** The key `POST /wpk/sign` signs with. */
  key_id: string;
  trusted: TrustedKey[];
}
