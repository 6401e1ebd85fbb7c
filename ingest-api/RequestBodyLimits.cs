using Microsoft.AspNetCore.Http.Features;
using PricingOptimizer.Events;

namespace PricingOptimizer.IngestApi;

/// <summary>
/// Every request body is bounded: <see cref="EventRules.MaxRequestBytes"/> for <c>/v1/events</c>, <see cref="MaxBodyBytes"/>
/// elsewhere. A declared length above the bound is refused before reading; a body that grows past it (chunked, or a
/// length that lies) fails the read with 413, whatever server hosts the API.
/// </summary>
internal static class RequestBodyLimits
{
    public const int MaxBodyBytes = 64 * 1024;

    public static Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        long limit = context.Request.Path.StartsWithSegments("/v1/events") ? EventRules.MaxRequestBytes : MaxBodyBytes;
        if (context.Request.ContentLength > limit)
        {
            return TooLarge(limit).ExecuteAsync(context);
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
        {
            // Kestrel stops reading there itself; one byte more so the events endpoint can tell "too large" apart.
            feature.MaxRequestBodySize = limit + 1;
        }

        context.Request.Body = new BoundedStream(context.Request.Body, limit + 1);
        return next(context);
    }

    private static IResult TooLarge(long limit) => Results.Problem(statusCode: 413, title: "Request too large",
        detail: $"the body may be at most {limit:N0} bytes here",
        extensions: new Dictionary<string, object?> { ["field"] = "body" });

    /// <summary>Reads through to <paramref name="inner"/> and fails with 413 once more than <paramref name="limit"/> bytes arrived.</summary>
    private sealed class BoundedStream(Stream inner, long limit) : Stream
    {
        private long read;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => read; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Count(await inner.ReadAsync(buffer, cancellationToken));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        private int Count(int n)
        {
            read += n;
            return read > limit
                ? throw new BadHttpRequestException($"the body may be at most {limit - 1:N0} bytes here", StatusCodes.Status413PayloadTooLarge)
                : n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
