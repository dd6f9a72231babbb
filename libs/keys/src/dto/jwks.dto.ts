import { ApiProperty } from '@nestjs/swagger';

export class JwkDto {
  @ApiProperty({ example: 'RSA' })
  kty!: string;

  @ApiProperty({
    description: 'RFC 7638 thumbprint of the key',
    example: 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs',
  })
  kid!: string;

  @ApiProperty({ example: 'sig' })
  use!: string;

  @ApiProperty({ example: 'RS256' })
  alg!: string;

  @ApiProperty({ description: 'RSA modulus (base64url)' })
  n!: string;

  @ApiProperty({ description: 'RSA public exponent (base64url)', example: 'AQAB' })
  e!: string;
}

/** RFC 7517 JWK Set. */
export class JwksDto {
  @ApiProperty({ type: [JwkDto] })
  keys!: JwkDto[];
}
