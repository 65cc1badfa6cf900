import { NotFoundAppException } from '../../core/http/app.exception';

export class ApiKeyNotFoundException extends NotFoundAppException {
  constructor(id: string) {
    super('API key', id, 'API_KEY_NOT_FOUND');
  }
}
