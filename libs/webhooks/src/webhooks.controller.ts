import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { Audited } from '@agentauth/audit';
import { Auth, CurrentPrincipal, type Principal, ValidationProblem } from '@agentauth/core';
import { CreateWebhookDto } from './dto/create-webhook.dto';
import { ListQueryDto } from './dto/list-query.dto';
import {
  CreatedWebhookView,
  WebhookDeliveryListView,
  WebhookListView,
  WebhookView,
} from './dto/webhook.view';
import { WebhooksService } from './webhooks.service';

/** A path id that is not a UUID is a 400 validation_error (problem+json). */
const WebhookId = () =>
  Param(
    'id',
    new ParseUUIDPipe({
      exceptionFactory: () =>
        new ValidationProblem('The id is not a valid UUID', [{ field: 'id', message: 'must be a UUID' }]),
    }),
  );

@ApiTags('webhooks')
@Controller('webhooks')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Post()
  @HttpCode(201)
  @Auth({ scopes: ['webhooks:write'] })
  @Audited('webhook.created', { targetType: 'webhook' })
  @ApiOperation({
    summary: "Subscribe a URL to events of the caller's subtree (the secret is shown once)",
    description:
      "Owned by the calling token's sub (owner_agent_id): visible to and managed by it and its ancestors; delivered only events about the owner's subtree. A token carrying act gets 403 act_not_allowed.",
  })
  @ApiCreatedResponse({ type: CreatedWebhookView })
  create(
    @CurrentPrincipal() principal: Principal,
    @Body() body: CreateWebhookDto,
  ): Promise<CreatedWebhookView> {
    return this.webhooks.create(principal, body);
  }

  @Get()
  @Auth({ scopes: ['webhooks:read'] })
  @ApiOperation({
    summary: "List the webhooks owned in the caller's subtree (its own included), newest first",
  })
  @ApiOkResponse({ type: WebhookListView })
  list(@CurrentPrincipal() principal: Principal, @Query() query: ListQueryDto): Promise<WebhookListView> {
    return this.webhooks.list(principal, query);
  }

  @Get(':id')
  @Auth({ scopes: ['webhooks:read'] })
  @ApiOperation({ summary: 'One webhook (no secret)' })
  @ApiOkResponse({ type: WebhookView })
  get(@CurrentPrincipal() principal: Principal, @WebhookId() id: string): Promise<WebhookView> {
    return this.webhooks.get(principal, id);
  }

  @Delete(':id')
  @HttpCode(204)
  @Auth({ scopes: ['webhooks:write'] })
  @Audited('webhook.deleted', { targetType: 'webhook' })
  @ApiOperation({
    summary: 'Delete a webhook: no further deliveries; its delivery log is kept',
    description:
      'The owner or an ancestor; anyone else gets 404. A token carrying act gets 403 act_not_allowed.',
  })
  @ApiNoContentResponse()
  async delete(@CurrentPrincipal() principal: Principal, @WebhookId() id: string): Promise<void> {
    await this.webhooks.delete(principal, id);
  }

  @Get(':id/deliveries')
  @Auth({ scopes: ['webhooks:read'] })
  @ApiOperation({ summary: 'Delivery log of a webhook, newest first, with every attempt' })
  @ApiOkResponse({ type: WebhookDeliveryListView })
  deliveries(
    @CurrentPrincipal() principal: Principal,
    @WebhookId() id: string,
    @Query() query: ListQueryDto,
  ): Promise<WebhookDeliveryListView> {
    return this.webhooks.deliveries(principal, id, query);
  }
}
