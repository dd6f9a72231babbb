import { Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { CidrSet, clientIpFrom } from '../net/ip';

/** Resolves the client IP once per request, honouring `TRUST_PROXY_CIDRS` only. */
@Injectable()
export class ClientIpResolver {
  private readonly trusted: CidrSet;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.trusted = new CidrSet(config.trustProxyCidrs);
  }

  resolve(req: Request): string {
    const cached = (req as Request & { clientIp?: string }).clientIp;
    if (cached) return cached;
    const ip = clientIpFrom(req.socket?.remoteAddress, req.headers['x-forwarded-for'], this.trusted);
    (req as Request & { clientIp?: string }).clientIp = ip;
    return ip;
  }
}
