import { IsOptional, IsString, IsUrl, MaxLength } from 'class-validator';

export class SsoLoginQuery {
  /** Where to send the browser with the token once signed in (one of the provider's `redirect_uris`); none: JSON. */
  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  @MaxLength(2000)
  redirect_uri?: string;
}

/** What the provider sends back; the whole URL is checked by openid-client. */
export class SsoCallbackQuery {
  @IsOptional()
  @IsString()
  @MaxLength(4000)
  code?: string;

  @IsOptional()
  @IsString()
  @MaxLength(500)
  state?: string;

  @IsOptional()
  @IsString()
  @MaxLength(500)
  error?: string;

  @IsOptional()
  @IsString()
  @MaxLength(2000)
  error_description?: string;

  @IsOptional()
  @IsString()
  @MaxLength(2000)
  iss?: string;
}
