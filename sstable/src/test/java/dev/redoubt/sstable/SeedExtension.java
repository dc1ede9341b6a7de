package dev.redoubt.sstable;

import java.util.Random;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.jupiter.api.extension.TestExecutionExceptionHandler;

/**
 * Gives a test a seeded {@link Random} parameter and, when the test fails, puts the seed and the command that
 * replays it in the failure message. The seed is {@code -Dredoubt.seed=N} when given (surefire passes it on),
 * else fresh per test.
 */
public final class SeedExtension implements ParameterResolver, TestExecutionExceptionHandler {
    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(SeedExtension.class);

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == Random.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        long seed = Long.getLong("redoubt.seed", System.nanoTime() ^ context.getUniqueId().hashCode());
        context.getStore(NS).put("seed", seed);
        return new Random(seed);
    }

    @Override
    public void handleTestExecutionException(ExtensionContext context, Throwable failure) throws Throwable {
        Long seed = context.getStore(NS).get("seed", Long.class);
        if (seed == null) {
            throw failure;
        }
        String test = context.getRequiredTestClass().getSimpleName() + "#" + context.getRequiredTestMethod().getName();
        AssertionError withSeed = new AssertionError("[seed " + seed + "; replay: mvn test -pl sstable -Dtest='" + test
                + "' -Dredoubt.seed=" + seed + "] " + failure, failure);
        throw withSeed;
    }
}
