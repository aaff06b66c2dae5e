/**
 * Alibaba Cloud POP error model for the imageseg emulator.
 *
 * Codes and HTTP statuses come from the reference's error table
 * (/work/shared/seeds/alibaba-imageseg-2019-12-30.zh.txt, "9. 常见错误码") plus the POP
 * gateway's own codes (InvalidAction.NotFound, InvalidVersion, IncompleteSignature,
 * InvalidTimeStamp.Format, Missing<Param>). The body is what the gateway returns and what
 * @alicloud/openapi-core's doRequest parses: it reads `Code`, `Message`, `RequestId` from the
 * JSON and throws ClientError (4xx), ServerError (5xx) or ThrottlingError (Code contains
 * "Throttling"), with `data` = the parsed body.
 */

export const HOST_ID = 'imageseg.cn-shanghai.aliyuncs.com';

/** An error the emulator answers with. `httpStatus` is the status line of the response. */
export class AliError extends Error {
  readonly code: string;
  readonly httpStatus: number;
  constructor(code: string, httpStatus: number, message: string) {
    super(message);
    this.name = 'AliError';
    this.code = code;
    this.httpStatus = httpStatus;
  }
}

/** Default HTTP status and message for codes the reference (or the POP gateway) documents. */
export const KNOWN_ERRORS: Readonly<Record<string, { status: number; message: string }>> = {
  // reference table, 图像分割错误码
  MissingParameter: { status: 400, message: 'The input parameter that is mandatory for processing this request is not supplied.' },
  InvalidParameter: { status: 400, message: 'The specified parameter is not valid.' },
  MissingImageURL: { status: 400, message: 'ImageURL is mandatory for this action.' },
  'InvalidParameter.Unsuitable': { status: 400, message: 'The data is empty or the parameter is invalid.' },
  'InvalidParameter.Convert': { status: 400, message: 'Failed to convert the input parameter.' },
  'InvalidParameter.Transfer': { status: 400, message: 'Failed to download or upload data.' },
  'InvalidImage.Download': { status: 400, message: 'Failed to download the image.' },
  'InvalidTimeStamp.Expired': { status: 400, message: 'Specified time stamp or date value is expired.' },
  SignatureDoesNotMatch: { status: 400, message: 'Specified signature does not match our calculation.' },
  'InvalidImage.Content': { status: 400, message: 'The image content is invalid.' },
  'InvalidImage.Resolution': { status: 400, message: 'The image resolution does not meet the requirements.' },
  'InvalidImage.URL': { status: 400, message: 'The image URL is invalid.' },
  IllegalUrlParameter: { status: 400, message: 'The URL is illegal.' },
  'InvalidImage.Unsafe': { status: 400, message: 'The URL is unsafe.' },
  'InvalidImage.Region': { status: 400, message: 'The image is not in a supported region.' },
  SignatureNonceUsed: { status: 400, message: 'Specified signature nonce was used already.' },
  'Throttling.User': { status: 400, message: 'Request was denied due to user flow control.' },
  'InvalidParameter.TooLarge': { status: 400, message: 'The content to be processed is too large.' },
  'InvalidApi.NotPurchase': { status: 403, message: 'The service is not activated. Please activate it first.' },
  Unauthorized: { status: 403, message: 'You are not authorized to perform this operation.' },
  ParameterError: { status: 403, message: 'Parameter error. Please check the parameters.' },
  'InvalidAccessKeyId.NotFound': { status: 404, message: 'Specified access key is not found.' },
  Timeout: { status: 408, message: 'The request timed out.' },
  InternalError: { status: 500, message: 'The request processing has failed due to some unknown error, exception or failure.' },
  'InternalError.Env': { status: 500, message: 'Failed to initialise the environment.' },
  'InternalError.Model': { status: 500, message: 'Failed to load the model.' },
  'InternalError.Algo': { status: 500, message: 'The algorithm service failed.' },
  // POP gateway codes
  IncompleteSignature: { status: 400, message: 'The request signature does not conform to Aliyun standards.' },
  'InvalidTimeStamp.Format': { status: 400, message: 'Specified time stamp or date value is not well formatted.' },
  'InvalidAction.NotFound': { status: 404, message: 'Specified api is not found, please check your url and method.' },
  InvalidVersion: { status: 400, message: 'Specified parameter Version is not valid.' },
  'InvalidParameter.BadRequest': { status: 400, message: 'Bad parameter. Check the parameter values against the documentation.' },
  Throttling: { status: 400, message: 'Request was denied due to request throttling.' },
  ServiceUnavailable: { status: 503, message: 'The request has failed due to a temporary failure of the server.' },
};

/** Build an AliError from a known code; `detail` is appended to the default message. */
export function aliError(code: string, detail?: string): AliError {
  const known = KNOWN_ERRORS[code];
  const status = known?.status ?? 400;
  const base = known?.message ?? code;
  return new AliError(code, status, detail ? `${base} ${detail}` : base);
}

/** POP's rule for an absent required parameter: code `Missing<Name>`, message `<Name> is mandatory for this action.` */
export function missingParameter(name: string): AliError {
  return new AliError(`Missing${name}`, 400, `${name} is mandatory for this action.`);
}

export interface AliErrorBody {
  RequestId: string;
  HostId: string;
  Code: string;
  Message: string;
  Recommend: string;
}

export function errorBody(requestId: string, code: string, message: string): AliErrorBody {
  return {
    RequestId: requestId,
    HostId: HOST_ID,
    Code: code,
    Message: message,
    Recommend: `https://api.aliyun.com/troubleshoot?q=${encodeURIComponent(code)}&product=imageseg&requestId=${requestId}`,
  };
}
