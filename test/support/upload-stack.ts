import { startAlibabaEmulator, startOpenPlatformEmulator, startOssEmulator, type AlibabaEmulator, type OpenPlatformEmulator, type OssEmulator } from '../emulator/index.js';
import { emulatorEnvironment, startTestServer, type TestServer } from './server.js';

/** The Alibaba emulator, its open platform (AuthorizeFileUpload) and OSS bucket, and a server using them. */
export interface UploadStack {
  emulator: AlibabaEmulator;
  oss: OssEmulator;
  openPlatform: OpenPlatformEmulator;
  server: TestServer;
  close(): Promise<void>;
}

/** What a call that uploads its image meets: authorisation, the OSS PostObject, then Alibaba fetching the upload. */
export async function startUploadStack(): Promise<UploadStack> {
  const emulator = await startAlibabaEmulator();
  const oss = await startOssEmulator();
  const openPlatform = await startOpenPlatformEmulator({ oss, accessKeyId: emulator.accessKeyId, accessKeySecret: emulator.accessKeySecret });
  // Alibaba downloads http://{Bucket}.{Endpoint}/{ObjectKey}; in the tests that name lives only in the OSS emulator.
  emulator.addDownloadRoute((url) => oss.loopbackUrl(url));
  const server = await startTestServer({ ...emulatorEnvironment(emulator), IMAGESEG_OPENPLATFORM_ENDPOINT: openPlatform.endpoint });
  return {
    emulator,
    oss,
    openPlatform,
    server,
    async close() {
      await server.close();
      await openPlatform.close();
      await oss.close();
      await emulator.close();
    },
  };
}
