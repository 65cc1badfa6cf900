import { Injectable } from '@nestjs/common';
import { actorOf } from '../../core/auth/principal';
import { Transactions } from '../../core/database/transaction';
import { currentPrincipal } from '../../core/tenancy/request-context';
import { CONFIGURATION_RESOURCE, DocumentEvents, iso } from './document-events';
import { ConfigurationNotFoundException, InvalidSettingsException } from './documents.exceptions';
import { type ConfigurationRow, DocumentsRepository } from './documents.repository';
import type {
  ConfigurationPage,
  ConfigurationResponse,
  CreateConfigurationDto,
  ExtractionSettingsDto,
} from './dto/configuration.dto';
import type { TimelineEventResponse, TimelineQuery } from './dto/documents.dto';
import { isKnownEncoding } from './extraction/decode';
import { DEFAULT_SETTINGS, type ExtractionSettings } from './extraction/settings';

/** A validated DTO as settings, defaults filled in; the cross-field checks the decorators cannot make. */
export function settingsOf(dto: ExtractionSettingsDto): ExtractionSettings {
  if (dto.encoding !== undefined && !isKnownEncoding(dto.encoding)) {
    throw new InvalidSettingsException(
      'encoding',
      `unknown encoding '${dto.encoding}' (e.g. utf-8, utf-16le, windows-1252)`,
    );
  }
  if (dto.delimiter !== undefined && dto.delimiter === (dto.quote ?? '"')) {
    throw new InvalidSettingsException('delimiter', 'must differ from the quote character');
  }
  if (dto.delimiter !== undefined && /[\r\n]/.test(dto.delimiter)) {
    throw new InvalidSettingsException('delimiter', 'cannot be a line break');
  }
  if (dto.quote !== undefined && /[\r\n]/.test(dto.quote)) {
    throw new InvalidSettingsException('quote', 'cannot be a line break');
  }
  const settings: ExtractionSettings = {
    ...DEFAULT_SETTINGS,
    ...Object.fromEntries(Object.entries(dto).filter(([, value]) => value !== undefined)),
  };
  settings.column_types = { ...(dto.column_types ?? {}) };
  return settings;
}

/** Versioned extraction settings: each PUT is a new version, and every version stays readable. */
@Injectable()
export class ConfigurationsService {
  constructor(
    private readonly repository: DocumentsRepository,
    private readonly events: DocumentEvents,
    private readonly tx: Transactions,
  ) {}

  create(tenantId: string, input: CreateConfigurationDto): Promise<ConfigurationResponse> {
    const settings = settingsOf(input.settings);
    return this.tx.run(async () => {
      const row = await this.repository.insertConfiguration(
        tenantId,
        input.name,
        settings,
        actorOf(currentPrincipal()),
      );
      await this.recorded(row, 'configuration.created');
      return toConfigurationResponse(row);
    });
  }

  update(tenantId: string, id: string, input: CreateConfigurationDto): Promise<ConfigurationResponse> {
    const settings = settingsOf(input.settings);
    return this.tx.run(async () => {
      const row = await this.repository.updateConfiguration(
        tenantId,
        id,
        input.name,
        settings,
        actorOf(currentPrincipal()),
      );
      if (!row) throw new ConfigurationNotFoundException(id);
      await this.recorded(row, 'configuration.updated');
      return toConfigurationResponse(row);
    });
  }

  private async recorded(row: ConfigurationRow, type: string): Promise<void> {
    await this.events.record({
      tenantId: row.tenant_id,
      type,
      configuration_id: row.id,
      data: { version: row.version, name: row.name, settings: row.settings },
      audit: { resourceType: CONFIGURATION_RESOURCE, resourceId: row.id },
    });
  }

  async get(tenantId: string, id: string, version?: number): Promise<ConfigurationResponse> {
    return toConfigurationResponse(await this.configuration(tenantId, id, version));
  }

  async configuration(tenantId: string, id: string, version?: number): Promise<ConfigurationRow> {
    const row = await this.repository.configuration(tenantId, id, version);
    if (!row) throw new ConfigurationNotFoundException(id, version);
    return row;
  }

  async list(tenantId: string, offset: number, limit: number): Promise<ConfigurationPage> {
    const [rows, total] = await this.repository.listConfigurations(tenantId, offset, limit);
    return { items: rows.map(toConfigurationResponse), total };
  }

  async timeline(tenantId: string, id: string, page: TimelineQuery): Promise<TimelineEventResponse[]> {
    await this.configuration(tenantId, id);
    return this.events.timeline(tenantId, 'configuration_id', id, page);
  }
}

export function toConfigurationResponse(row: ConfigurationRow): ConfigurationResponse {
  return {
    id: row.id,
    tenant_id: row.tenant_id,
    name: row.name,
    version: row.version,
    settings: row.settings,
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
  };
}
